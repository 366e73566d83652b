package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/admin"
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

// TestAdminLoginOnAnyReplica logs in to the admin page through one
// replica and uses the session through the other; a logout through the
// second ends it on both.
func TestAdminLoginOnAnyReplica(t *testing.T) {
	const token = "a-long-admin-token-for-the-test"
	env := map[string]string{"IDICBOT_DATABASE_URL": pgtest.URL(t), "IDICBOT_ADMIN_TOKEN": token}
	_, a := startServe(t, t.TempDir(), env)
	_, b := startServe(t, t.TempDir(), env)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(a+"/admin/login", url.Values{"token": {token}, "name": {"Lan"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == admin.CookieName {
			cookie = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || cookie == nil {
		t.Fatalf("login on A: %d, cookie %v", resp.StatusCode, cookie)
	}
	page := func(base string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/admin", nil)
		req.AddCookie(cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	logged := page(b)
	i := strings.Index(logged, `name="csrf-token" content="`)
	if !strings.Contains(logged, "Lan") || i < 0 {
		t.Fatalf("the admin page on B with A's login is not the logged-in page:\n%.600s", logged)
	}
	csrf := logged[i+len(`name="csrf-token" content="`):]
	csrf = csrf[:strings.IndexByte(csrf, '"')]
	req, _ := http.NewRequest("POST", b+"/admin/logout", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookie)
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if strings.Contains(page(a), "Lan") {
		t.Fatal("after a logout on B, the session still works on A")
	}
}
