package webchat

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

func TestNotifier(t *testing.T) {
	n := newNotifier()
	a, releaseA := n.subscribe("s")
	b, releaseB := n.subscribe("s")
	other, releaseOther := n.subscribe("t")
	if got, want := n.waiting(), 2; got != want {
		t.Fatalf("waiting = %d, want %d", got, want)
	}

	n.wake("s")
	for name, ch := range map[string]<-chan struct{}{"a": a, "b": b} {
		select {
		case <-ch:
		default:
			t.Fatalf("waiter %s not woken", name)
		}
	}
	select {
	case <-other:
		t.Fatal("waiter of another session woken")
	default:
	}

	// A new waiter after the wake gets a fresh channel, which the old
	// waiters' releases must not drop.
	c, releaseC := n.subscribe("s")
	releaseA()
	releaseB()
	releaseB() // twice is harmless
	select {
	case <-c:
		t.Fatal("fresh waiter already woken")
	default:
	}
	n.wake("s")
	select {
	case <-c:
	default:
		t.Fatal("fresh waiter not woken")
	}
	releaseC()
	releaseOther()
	n.wake("nobody")
	if got := n.waiting(); got != 0 {
		t.Fatalf("waiting = %d after every waiter left, want 0", got)
	}
}

type emptyCore struct{}

func (emptyCore) Handle(context.Context, bot.Inbound) (bot.Result, error) { return bot.Result{}, nil }
func (emptyCore) Conversation(context.Context, crm.Channel, string, crm.ID, int) ([]*crm.Interaction, error) {
	return nil, nil
}

// TestWaitersLeaveNothing checks that finished long polls and streams leave
// no per-session state behind.
func TestWaitersLeaveNothing(t *testing.T) {
	s := New(emptyCore{}, Options{MaxWait: 10 * time.Millisecond})
	mux := http.NewServeMux()
	s.Routes(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	resp, err := ts.Client().Get(ts.URL + "/webchat/messages?session=a&wait=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/webchat/messages?session=b", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err = ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	for s.notify.waiting() != 1 { // the stream subscribes after its first flush
		time.Sleep(time.Millisecond)
	}
	cancel()
	resp.Body.Close()
	if err := s.Close(); err != nil { // waits for the stream handler to return
		t.Fatal(err)
	}
	if got := s.notify.waiting(); got != 0 {
		t.Fatalf("waiting = %d, want 0", got)
	}
}
