package webchat

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/inproc"
	"github.com/idicbot/idicbot/crm"
)

// TestNotifier checks that wakes are per session: a session's waiters are
// woken, another session's are not.
func TestNotifier(t *testing.T) {
	ctx := context.Background()
	bus := inproc.NewNotifier()
	n := newNotifier(bus)
	a, releaseA := n.subscribe("s")
	b, releaseB := n.subscribe("s")
	other, releaseOther := n.subscribe("t")
	if got, want := bus.Keys(), 2; got != want {
		t.Fatalf("sessions waited on = %d, want %d", got, want)
	}

	if err := n.wake(ctx, "s"); err != nil {
		t.Fatal(err)
	}
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

	// A new waiter after the wake is not woken by it.
	c, releaseC := n.subscribe("s")
	releaseA()
	releaseB()
	releaseB() // twice is harmless
	select {
	case <-c:
		t.Fatal("fresh waiter already woken")
	default:
	}
	if err := n.wake(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c:
	default:
		t.Fatal("fresh waiter not woken")
	}
	releaseC()
	releaseOther()
	if err := n.wake(ctx, "nobody"); err != nil {
		t.Fatal(err)
	}
	if got := bus.Keys(); got != 0 {
		t.Fatalf("sessions waited on = %d after every waiter left, want 0", got)
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
	bus := inproc.NewNotifier()
	s := New(emptyCore{}, Options{MaxWait: 10 * time.Millisecond, Notifier: bus})
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
	for bus.Keys() != 1 { // the stream subscribes after its first flush
		time.Sleep(time.Millisecond)
	}
	cancel()
	resp.Body.Close()
	if err := s.Close(); err != nil { // waits for the stream handler to return
		t.Fatal(err)
	}
	if got := bus.Keys(); got != 0 {
		t.Fatalf("waiting = %d, want 0", got)
	}
}
