package slack

import (
	"context"
	"errors"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocket connects Socket Mode (the library reconnects by itself) and
// feeds what arrives into the same router as HTTP. Two goroutines: the
// library's connection loop and our event loop; both end at Close.
func (a *Adapter) runSocket() {
	go func() {
		defer a.workers.Done()
		// RunContext always ends with an error: the context's when we
		// closed, another when the library gave up.
		if err := a.sock.RunContext(a.ctx); !errors.Is(err, context.Canceled) {
			a.log.Error("slack socket mode stopped", "err", err)
		}
	}()
	defer a.workers.Done()
	for {
		select {
		case <-a.ctx.Done():
			return
		case evt := <-a.sock.Events:
			a.socketEvent(evt)
		}
	}
}

func (a *Adapter) socketEvent(evt socketmode.Event) {
	ack := func(payload any) {
		if evt.Request == nil {
			return
		}
		if err := a.sock.AckCtx(a.ctx, evt.Request.EnvelopeID, payload); err != nil && a.ctx.Err() == nil {
			a.log.Warn("slack socket mode ack failed", "err", err)
		}
	}
	switch evt.Type {
	case socketmode.EventTypeConnected:
		a.log.Info("slack socket mode connected")
	case socketmode.EventTypeConnectionError:
		a.log.Warn("slack socket mode connection error; retrying")
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("slack socket mode: SLACK_APP_TOKEN was refused")
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slackapi.SlashCommand)
		if !ok {
			ack(nil)
			return
		}
		// The answer rides on the ack, like the body of an HTTP answer. An
		// envelope delivered again is answered, not run again.
		ack(a.command(cmd, envelopeKey(evt)))
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slackapi.InteractionCallback)
		if ok && !a.firstTime(envelopeKey(evt), "interaction", cb.User.ID, cb.Team.ID) {
			ack(nil)
			return
		}
		if ok && cb.Type == slackapi.InteractionTypeViewSubmission {
			// The answer (response_action errors, or nothing to close the
			// modal) rides on the ack.
			if resp := a.interaction(a.ctx, cb); resp != nil {
				ack(resp)
			} else {
				ack(nil)
			}
			return
		}
		ack(nil)
		if ok {
			a.interaction(a.ctx, cb)
		}
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			ack(nil)
			return
		}
		// Not acknowledged on failure: Slack sends it again.
		if err := a.event(a.ctx, ev); err == nil {
			ack(nil)
		}
	}
}

// envelopeKey is the replay key of a Socket Mode envelope: its id, which
// Slack keeps when it delivers the envelope again.
func envelopeKey(evt socketmode.Event) string {
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return ""
	}
	return "env:" + evt.Request.EnvelopeID
}
