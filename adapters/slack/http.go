package slack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/idicbot/idicbot/adapters/internal/jsontext"
)

// role is what a Slack user may do.
type role int

const (
	roleNone role = iota
	roleRep
	roleAdmin
)

// teamAllowed reports whether the workspace is served.
func (a *Adapter) teamAllowed(team string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.teams[team]
}

// roleOf returns a user's role: admins by id, reps by id or membership of
// the rep user group (cached for GroupTTL; on a failed refresh the last
// known list is used).
func (a *Adapter) roleOf(ctx context.Context, user string) role {
	if user == "" {
		return roleNone
	}
	if a.admins[user] {
		return roleAdmin
	}
	if a.repIDs[user] {
		return roleRep
	}
	if a.opts.RepGroup == "" {
		return roleNone
	}
	a.mu.Lock()
	fresh := a.groupMember != nil && time.Since(a.groupAt) < a.opts.GroupTTL
	member := a.groupMember[user]
	a.mu.Unlock()
	if fresh {
		if member {
			return roleRep
		}
		return roleNone
	}
	tctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	users, err := a.api.GetUserGroupMembersContext(tctx, a.opts.RepGroup)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.log.WarnContext(ctx, "slack: could not read the rep user group; using the last known members", "group", a.opts.RepGroup, "err", err)
	} else {
		a.groupMember = set(users)
		a.groupAt = time.Now()
	}
	if a.groupMember[user] {
		return roleRep
	}
	return roleNone
}

// readVerified reads the raw body and checks Slack's signature over it. It
// answers 401 (and returns false) on a missing, wrong or stale signature.
// key names what was signed (timestamp and body): the same for a replay of
// the request, different for anything Slack sends anew.
func (a *Adapter) readVerified(w http.ResponseWriter, r *http.Request) (body []byte, key string, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusBadRequest)
		return nil, "", false
	}
	sv, err := slackapi.NewSecretsVerifier(r.Header, a.opts.SigningSecret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		a.log.WarnContext(r.Context(), "slack: refused a request with a bad or stale signature", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, "", false
	}
	return body, signedKey(r.Header.Get("X-Slack-Request-Timestamp"), body), true
}

// signedKey is the replay key of a signed HTTP request: a hash of exactly
// what the signature covers ("v0:" timestamp ":" body), so a replay has the
// same key however its headers are spelled.
func signedKey(ts string, body []byte) string {
	h := sha256.New()
	h.Write([]byte("v0:" + ts + ":"))
	h.Write(body)
	return "sig:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// serveCommands answers POST /slack/commands.
func (a *Adapter) serveCommands(w http.ResponseWriter, r *http.Request) {
	body, key, ok := a.readVerified(w, r)
	if !ok {
		return
	}
	// SlashCommandParse reads the form from the body: give it the copy.
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cmd, err := slackapi.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "malformed slash command", http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusOK, a.command(cmd, key))
}

// serveInteractions answers POST /slack/interactions (button clicks and
// modal submissions).
func (a *Adapter) serveInteractions(w http.ResponseWriter, r *http.Request) {
	body, key, ok := a.readVerified(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "missing payload", http.StatusBadRequest)
		return
	}
	if err := jsontext.Check([]byte(form.Get("payload"))); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, "malformed payload", http.StatusBadRequest)
		return
	}
	if !a.firstTime(key, "interaction", cb.User.ID, cb.Team.ID) {
		w.WriteHeader(http.StatusOK)
		return
	}
	// A view_submission may answer in the body (response_action); an empty
	// 200 closes the modal.
	if resp := a.interaction(a.ctx, cb); resp != nil {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// serveEvents answers POST /slack/events: the URL check and message events.
func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, _, ok := a.readVerified(w, r)
	if !ok {
		return
	}
	if err := jsontext.Check(body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		http.Error(w, "malformed event", http.StatusBadRequest)
		return
	}
	if outer.Type == slackevents.URLVerification {
		writeJSON(w, http.StatusOK, map[string]string{"challenge": outer.Challenge})
		return
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		// An event type the library does not know: nothing for us to do.
		a.log.DebugContext(r.Context(), "slack: unparsed event", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := a.event(a.ctx, ev); err != nil {
		// Slack retries a failed delivery; the event id is forgotten so the
		// retry is handled.
		http.Error(w, "event not handled", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// postResponse posts a late command answer to Slack's response_url with the
// adapter's own HTTP client (the library's default one has no timeout).
func (a *Adapter) postResponse(ctx context.Context, responseURL string, msg *slackapi.Msg) {
	if responseURL == "" {
		return
	}
	wm := &slackapi.WebhookMessage{Text: msg.Text, ResponseType: msg.ResponseType}
	if len(msg.Blocks.BlockSet) > 0 {
		wm.Blocks = &msg.Blocks
	}
	if err := slackapi.PostWebhookCustomHTTPContext(ctx, responseURL, a.http, wm); err != nil {
		a.log.WarnContext(ctx, "slack: posting a command answer to response_url failed", "err", err)
	}
}
