package zalo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/idicbot/idicbot/adapters/internal/jsontext"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// maxEventBytes bounds a webhook body; real events are a few kilobytes.
const maxEventBytes = 1 << 20

// MAC is Zalo's webhook signature: the lowercase hex SHA-256 of app id, raw
// body, timestamp and OA secret key concatenated (a plain hash, not HMAC).
func MAC(appID string, raw []byte, timestamp, oaSecretKey string) string {
	h := sha256.New()
	h.Write([]byte(appID))
	h.Write(raw)
	h.Write([]byte(timestamp))
	h.Write([]byte(oaSecretKey))
	return hex.EncodeToString(h.Sum(nil))
}

// errBadSignature is a webhook call that is not Zalo's.
var errBadSignature = errors.New("zalo: bad webhook signature")

// Verify checks a webhook call's signature header against the raw body:
// "mac=<hex>" or bare "<hex>", compared in constant time. The app id and
// timestamp are the body's, as written; the app id must be ours. When the
// body timestamp does not match, a X-ZEvent-Timestamp header value is tried.
func Verify(appID, oaSecretKey string, raw []byte, header, headerTS string) error {
	sig := strings.TrimSpace(header)
	if len(sig) >= 4 && strings.EqualFold(sig[:4], "mac=") {
		sig = strings.TrimSpace(sig[4:])
	}
	sig = strings.ToLower(sig)
	if sig == "" {
		return fmt.Errorf("%w: no %s header", errBadSignature, SignatureHeader)
	}
	var ids struct {
		AppID     FlexString `json:"app_id"`
		Timestamp FlexString `json:"timestamp"`
	}
	if err := json.Unmarshal(raw, &ids); err != nil {
		return fmt.Errorf("%w: body is not JSON", errBadSignature)
	}
	if string(ids.AppID) != appID {
		return fmt.Errorf("%w: body app_id %q is not ours", errBadSignature, ids.AppID)
	}
	want := MAC(appID, raw, string(ids.Timestamp), oaSecretKey)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) == 1 {
		return nil
	}
	if ts := strings.TrimSpace(headerTS); ts != "" && ts != string(ids.Timestamp) {
		want = MAC(appID, raw, ts, oaSecretKey)
		if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) == 1 {
			return nil
		}
	}
	return fmt.Errorf("%w: MAC does not match (body timestamp %q)", errBadSignature, ids.Timestamp)
}

// stale says why an event timestamped t must not be handled ("" when it
// may): older than MaxEventAge, further ahead than MaxClockSkew, or
// without a timestamp while the age is checked.
func (a *Adapter) stale(t time.Time) string {
	return bot.StaleEvent(t, a.now(), a.opts.MaxEventAge, a.opts.MaxClockSkew)
}

// Routes registers the webhook: POST for events, GET for Zalo's URL check.
func (a *Adapter) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+WebhookPath, a.serveWebhook)
	mux.HandleFunc("GET "+WebhookPath, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
}

// serveWebhook handles one event. It answers 200 only after the event is
// committed (or needs nothing), so Zalo delivers it again after a failure;
// 401 and nothing handled for a bad or missing signature.
func (a *Adapter) serveWebhook(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	header := r.Header.Get(SignatureHeader)
	if t := bytes.TrimSpace(raw); header == "" && (len(t) == 0 || string(t) == "{}") {
		// Zalo probes the URL when it is saved (reportedly unsigned, {}).
		a.log.InfoContext(r.Context(), "zalo webhook probe answered")
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := Verify(a.opts.AppID, a.opts.OASecretKey, raw, header, r.Header.Get(TimestampHeader)); err != nil {
		a.mu.Lock()
		a.badSigs++
		n := a.badSigs
		a.mu.Unlock()
		// A wrong OA Secret Key drops all traffic: say so loudly. The
		// secret is never logged.
		a.log.ErrorContext(r.Context(), "zalo webhook call refused: bad signature (is ZALO_OA_SECRET_KEY the OA Secret Key from the Webhook page?)",
			"err", err, "header", header, "remote", r.RemoteAddr, "refused_since_last_good", n)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	a.badSigs = 0
	a.mu.Unlock()
	if err := jsontext.Check(raw); err != nil {
		a.log.WarnContext(r.Context(), "zalo webhook body refused", "reason", err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	ready := a.opened && !a.closed
	if ready {
		a.inflight.Add(1)
	}
	a.mu.Unlock()
	if !ready {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	defer a.inflight.Done()

	ev, err := ParseEvent(raw)
	if err != nil {
		a.log.WarnContext(r.Context(), "zalo webhook body refused", "err", err, "bytes", len(raw))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ev.Unreadable != "" {
		a.log.WarnContext(r.Context(), "zalo event partly unreadable; handled with what could be read", "event", ev.EventName, "why", ev.Unreadable)
	}
	if why := a.stale(ev.Time()); why != "" {
		// 200: Zalo retries what is not acknowledged, and delivering a
		// stale event again cannot make it fresh.
		a.log.WarnContext(r.Context(), "zalo event refused: "+why+"; acknowledged, not handled", "event", ev.EventName, "time", ev.Time(),
			"max_event_age", a.opts.MaxEventAge, "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusOK)
		return
	}
	user := ev.Customer(a.opts.OAID)
	if user == "" {
		a.log.InfoContext(r.Context(), "zalo event without a user; acknowledged", "event", ev.EventName)
		w.WriteHeader(http.StatusOK)
		return
	}
	// Zalo waits about 2 s; a commit started is finished even if Zalo
	// hangs up, so its retry is a cheap duplicate.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), a.opts.HandleTimeout)
	defer cancel()
	unlock := a.locks.Lock(user)
	err = a.handleEvent(ctx, ev, user)
	unlock()
	if err != nil {
		if crm.ErrorCode(err) == crm.EINVALID {
			// Delivering it again cannot fix it.
			a.log.WarnContext(r.Context(), "zalo event refused by the core; acknowledged", "event", ev.EventName, "err", err)
			w.WriteHeader(http.StatusOK)
			return
		}
		a.log.WarnContext(r.Context(), "zalo event not handled; Zalo will deliver it again", "event", ev.EventName, "err", err)
		http.Error(w, "not handled", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}
