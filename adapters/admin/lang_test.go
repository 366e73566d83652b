package admin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/adapters/admin"
	"github.com/idicbot/idicbot/crm"
)

// get fetches a page with the language cookie set to lang ("" for none),
// without following redirects.
func get(t *testing.T, rawURL, lang string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	if lang != "" {
		req.AddCookie(&http.Cookie{Name: admin.LangCookie, Value: lang})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestAdminOffServesAssets: with the admin off, its page is still styled
// (the stylesheet and script are served, not the 503 page) and reads in
// the chosen language.
func TestAdminOffServesAssets(t *testing.T) {
	mux := http.NewServeMux()
	admin.Off(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for file, ctype := range map[string]string{"admin.css": "text/css", "admin.js": "text/javascript"} {
		resp, body := get(t, srv.URL+"/admin/assets/"+file, "")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) || strings.Contains(body, admin.TokenEnv) {
			t.Fatalf("%s with the admin off: %d %s", file, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if resp, _ := get(t, srv.URL+"/admin/assets/nope.css", ""); resp.StatusCode != 404 {
		t.Fatalf("an unknown asset: %d, want 404", resp.StatusCode)
	}
	resp, body := get(t, srv.URL+"/admin", "")
	if resp.StatusCode != 503 || !strings.Contains(body, `<html lang="vi">`) || !strings.Contains(body, "đang tắt") {
		t.Fatalf("off page: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, srv.URL+"/admin", "en")
	if resp.StatusCode != 503 || !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "idicbot admin is off") {
		t.Fatalf("off page in English: %d %s", resp.StatusCode, body)
	}
}

// TestAdminLanguage: Vietnamese unless the browser chose English; the
// switch sets the cookie and goes back to the page only.
func TestAdminLanguage(t *testing.T) {
	e := newEnv(t)
	_, body := get(t, e.srv.URL+"/admin", "")
	for _, want := range []string{`<html lang="vi">`, "Token quản trị", "Đăng nhập", `href="/admin/lang?to=en"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("login page lacks %q:\n%s", want, body)
		}
	}
	_, body = get(t, e.srv.URL+"/admin", "en")
	for _, want := range []string{`<html lang="en">`, "Admin token", "Log in", `href="/admin/lang?to=vi"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("English login page lacks %q:\n%s", want, body)
		}
	}
	// A wrong token is told in the reader's language.
	form := url.Values{"token": {"wrong"}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(b), "Sai token quản trị.") {
		t.Fatalf("wrong token: %d %s", resp.StatusCode, b)
	}

	for _, tt := range []struct{ query, cookie, location string }{
		{"to=en", "en", "/admin"},
		{"to=vi&back=%23%2Foffer%2Fwelcome-new", "vi", "/admin#/offer/welcome-new"},
		{"to=en&back=https%3A%2F%2Fevil.example%2F%23x", "en", "/admin"},
		{"to=fr", "vi", "/admin"},
	} {
		resp, _ := get(t, e.srv.URL+"/admin/lang?"+tt.query, "")
		var got string
		for _, c := range resp.Cookies() {
			if c.Name == admin.LangCookie {
				got = c.Value
			}
		}
		if resp.StatusCode != http.StatusSeeOther || got != tt.cookie || resp.Header.Get("Location") != tt.location {
			t.Errorf("lang?%s: %d cookie %q location %q; want cookie %q location %q", tt.query, resp.StatusCode, got, resp.Header.Get("Location"), tt.cookie, tt.location)
		}
	}
}

// TestMessagesAPI: the bot's phrases over the API: the state, a save
// without the version it started from, a stale save, a rollback.
func TestMessagesAPI(t *testing.T) {
	e := newEnv(t)
	var st struct {
		Version int `json:"version"`
		Phrases []struct {
			ID   string            `json:"id"`
			Said map[string]string `json:"said"`
		} `json:"phrases"`
	}
	if code := e.call("GET", "/api/admin/messages", nil, &st); code != 200 || st.Version != 0 || len(st.Phrases) < 40 {
		t.Fatalf("GET messages: %d %+v", code, st)
	}
	edit := map[string]any{"address": map[string]string{"self": "em", "customer": "anh/chị"}}
	if code := e.call("PUT", "/api/admin/messages", edit, nil); code != 400 {
		t.Fatalf("a save without the version: %d, want 400", code)
	}
	edit["version"] = 0
	if code := e.call("PUT", "/api/admin/messages", edit, nil); code != 200 {
		t.Fatalf("save: %d", code)
	}
	if code := e.call("PUT", "/api/admin/messages", edit, nil); code != 409 {
		t.Fatalf("a stale save: %d, want 409", code)
	}
	edit["version"] = 1
	edit["address"] = map[string]string{}
	if code := e.call("PUT", "/api/admin/messages", edit, nil); code != 200 {
		t.Fatalf("second save: %d", code)
	}
	if got := strings.Join(e.chat("api", "asdf qwer"), "\n"); !strings.Contains(got, "Mình chưa hiểu ý bạn") {
		t.Fatalf("after going back to mình/bạn: %q", got)
	}
	if code := e.call("POST", "/api/admin/messages/rollback", map[string]any{"to": 1, "version": 2}, nil); code != 200 {
		t.Fatalf("rollback: %d", code)
	}
	if got := strings.Join(e.chat("api2", "asdf qwer"), "\n"); !strings.Contains(got, "Em chưa hiểu ý anh/chị") {
		t.Fatalf("after the rollback: %q", got)
	}
	if code := e.call("POST", "/api/admin/messages/preview", map[string]any{"phrases": map[string]any{"nope": map[string]string{"vi": "x"}}}, nil); code != 422 {
		t.Fatalf("preview of an unknown phrase: %d, want 422", code)
	}
}

// TestPageErrorsInLanguage: an error the page shows reads in the admin's
// language; the same error to a bearer caller stays the core's English.
func TestPageErrorsInLanguage(t *testing.T) {
	e := newEnv(t)
	s := e.login(t)
	put := func(lang string) (int, string) {
		t.Helper()
		u, _ := url.Parse(e.srv.URL)
		s.client.Jar.SetCookies(u, []*http.Cookie{{Name: admin.LangCookie, Value: lang, Path: "/"}})
		req, _ := http.NewRequest("PUT", e.srv.URL+"/api/admin/messages", strings.NewReader(`{"version": 5}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", s.csrf)
		req.Header.Set("Origin", e.srv.URL)
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, body := put("vi"); code != 409 || !strings.Contains(body, "vừa được người khác lưu (giờ là phiên bản 0)") {
		t.Fatalf("a stale save from the Vietnamese page: %d %s", code, body)
	}
	if code, body := put("en"); code != 409 || !strings.Contains(body, "saved meanwhile (now version 0)") {
		t.Fatalf("a stale save from the English page: %d %s", code, body)
	}
	var out struct {
		Error struct{ Message string } `json:"error"`
	}
	if code := e.call("PUT", "/api/admin/messages", map[string]any{"version": 5}, &out); code != 409 || !strings.HasPrefix(out.Error.Message, "The bot's phrases were saved meanwhile") {
		t.Fatalf("a stale save over the API: %d %q", code, out.Error.Message)
	}
}

// TestConditionBuilderKnowsEveryFact: the pick-list of the condition
// builder (admin.js FACTS) offers every fact rules may use, and no other.
func TestConditionBuilderKnowsEveryFact(t *testing.T) {
	js, err := os.ReadFile("admin.js")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(js), "const FACTS = [")
	end := strings.Index(string(js)[start:], "];")
	if start < 0 || end < 0 {
		t.Fatal("admin.js has no FACTS list")
	}
	var got []string
	for _, m := range regexp.MustCompile(`\['(\w+)', '(?:number|list|bool|text)'`).FindAllStringSubmatch(string(js)[start:start+end], -1) {
		got = append(got, m[1])
	}
	want := crm.FactNames()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("admin.js FACTS = %v\nfacts = %v", got, want)
	}
}
