package zalo

import (
	"context"
	"testing"
	"time"
)

// An echo that arrives while the send is in flight waits for the send's id
// to be recorded, and is then known as ours; an unknown id with nothing in
// flight is not.
func TestSentLogEchoWaitsForInflightSend(t *testing.T) {
	s := newSentLog()
	s.begin("u1")
	done := make(chan bool)
	go func() { done <- s.ours(context.Background(), "u1", "m1", time.Minute) }()
	s.add("m1", time.Now())
	s.end("u1")
	if !<-done {
		t.Fatal("the echo of an in-flight send was not known as ours")
	}
	if s.ours(context.Background(), "u1", "m2", time.Minute) {
		t.Fatal("an unknown id with nothing in flight was taken as ours")
	}
	s.begin("u2")
	if s.ours(context.Background(), "u2", "m3", time.Millisecond) {
		t.Fatal("an unknown id was taken as ours after the wait")
	}
	s.end("u2")
}
