package telegram

import (
	"bytes"
	"crypto/subtle"
	"io"
	"net/http"

	"github.com/go-telegram/bot/models"

	"github.com/idicbot/idicbot/adapters/internal/jsontext"
)

// maxUpdateBytes bounds a webhook body; real updates are a few kilobytes.
const maxUpdateBytes = 1 << 20

// Routes registers POST WebhookPath on mux when the adapter is in webhook
// mode; in long-polling mode it registers nothing.
func (a *Adapter) Routes(mux *http.ServeMux) {
	if !a.Webhook() {
		return
	}
	mux.HandleFunc("POST "+WebhookPath, a.serveWebhook)
}

// serveWebhook handles one update Telegram posts. It answers 200 only after
// the core committed the update (or the update needs nothing), so Telegram
// delivers it again after any failure: 500 on a failed handling, 503 before
// Open or after Close.
func (a *Adapter) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if secret := a.opts.WebhookSecret; secret != "" {
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			a.log.WarnContext(r.Context(), "telegram webhook call with a wrong or missing secret token", "remote", r.RemoteAddr)
			http.Error(w, "wrong secret token", http.StatusUnauthorized)
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if err := jsontext.Check(body); err != nil {
		a.log.WarnContext(r.Context(), "telegram webhook body refused", "reason", err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u, ok := parseUpdate(body)
	if !ok {
		a.log.WarnContext(r.Context(), "telegram webhook body is not an update", "bytes", len(body))
		http.Error(w, "not a Telegram update", http.StatusBadRequest)
		return
	}

	a.mu.Lock()
	ready := a.opened && !a.closed && a.me.id != 0
	if ready {
		a.inflight.Add(1)
	}
	a.mu.Unlock()
	if !ready {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	defer a.inflight.Done()

	// Telegram may post several updates at once; one chat's are handled
	// one at a time.
	unlock := a.locks.Lock(chatOf(u))
	err = a.handleUpdate(r.Context(), u)
	unlock()
	if err != nil {
		a.log.WarnContext(r.Context(), "telegram update not handled; Telegram will deliver it again", "update_id", u.ID, "err", err)
		http.Error(w, "not handled", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// parseUpdate accepts a JSON object with a positive update_id.
func parseUpdate(body []byte) (*models.Update, bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, false
	}
	var u models.Update
	if err := decodeJSON(body, &u); err != nil || u.ID <= 0 {
		return nil, false
	}
	return &u, true
}
