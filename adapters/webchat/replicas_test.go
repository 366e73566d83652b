package webchat_test

import (
	"context"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/bot/inproc"
	"github.com/idicbot/idicbot/crm"
)

// TestWakeReachesAnotherServer stands for two processes behind a load
// balancer: both servers read one conversation log (one store) and share a
// Notifier, so a reply sent by server A wakes a long poll waiting on B.
func TestWakeReachesAnotherServer(t *testing.T) {
	core := newFakeCore()
	bus := inproc.NewNotifier()
	a, _ := mustServe(t, core, webchat.Options{Notifier: bus})
	_, tsB := mustServe(t, core, webchat.Options{Notifier: bus})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	read := waitReads(core, 1)
	type result struct {
		conv messages
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// Much longer than the test's own patience: only a wake-up ends it in time.
		_, conv, err := fetch(ctx, tsB, "session=s9&wait=25")
		done <- result{conv, err}
	}()
	<-read // the poll on B found nothing and is waiting
	id := core.reply("s9", "Một nhân viên sẽ trả lời bạn ngay.")
	if err := a.Send(ctx, &crm.OutboxItem{ID: 7, Channel: crm.ChannelWeb, ChatID: "s9", UserID: "s9"}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || len(r.conv.Messages) != 1 || r.conv.Messages[0].ID != id {
			t.Fatalf("long poll on B = %+v (%v), want the reply sent through A", r.conv, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll on B was not woken by A's Send")
	}
}
