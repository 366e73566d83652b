package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// TestServeReplicasOnPostgres runs two `idicbot serve` on one PostgreSQL
// database, as behind a load balancer: a message posted to one is
// answered in the conversation read from the other, a reader long-polling
// the other wakes when the first commits the reply, and the same message
// posted to the second is a duplicate.
func TestServeReplicasOnPostgres(t *testing.T) {
	env := map[string]string{"IDICBOT_DATABASE_URL": pgtest.URL(t)}
	_, a := startServe(t, t.TempDir(), env)
	_, b := startServe(t, t.TempDir(), env)

	if code, body := postJSON(t, a+"/webchat/messages", `{"session":"s1","id":"m1","text":"xin chào"}`); code != 200 {
		t.Fatalf("post to A: %d %s", code, body)
	}
	c := getConversation(t, b, "s1")
	if len(c.Messages) < 2 || c.Messages[0].Text != "xin chào" || !strings.HasPrefix(c.Messages[1].Text, "Xin chào") {
		t.Fatalf("conversation read from B: %+v", c.Messages)
	}
	if code, body := postJSON(t, b+"/webchat/messages", `{"session":"s1","id":"m1","text":"xin chào"}`); code != 200 || !strings.Contains(body, `"duplicate":true`) {
		t.Fatalf("the same message posted to B: %d %s", code, body)
	}

	// B's reader waits after the last message it has; A commits a reply.
	last := c.Messages[len(c.Messages)-1].ID
	got := make(chan conversation, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("%s/webchat/messages?session=s1&after=%d&wait=30", b, last))
		if err != nil {
			t.Error(err)
			got <- conversation{}
			return
		}
		defer resp.Body.Close()
		var c conversation
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			t.Error(err)
		}
		got <- c
	}()
	time.Sleep(200 * time.Millisecond) // let the poll start waiting (it reads first, so either order works)
	if code, body := postJSON(t, a+"/webchat/messages", `{"session":"s1","id":"m2","text":"giá bao nhiêu"}`); code != 200 {
		t.Fatalf("second post to A: %d %s", code, body)
	}
	select {
	case c := <-got:
		if len(c.Messages) == 0 || c.Messages[0].Text != "giá bao nhiêu" {
			t.Fatalf("B's long poll returned %+v, want the new message and its reply", c.Messages)
		}
	case <-time.After(20 * time.Second):
		// The poll waits 30s: only a notification from A ends it sooner.
		t.Fatal("B's long poll was not woken by A's reply")
	}
}
