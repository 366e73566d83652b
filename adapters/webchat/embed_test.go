package webchat_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/adapters/webchat"
)

func getPage(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestEmbedFramePolicy: the standalone page may be framed by itself only,
// the embed page by the allowed origins too; branding reaches both, and
// the name is escaped.
func TestEmbedFramePolicy(t *testing.T) {
	_, ts := mustServe(t, newFakeCore(), webchat.Options{
		AllowedOrigins: []string{"https://shop.example", "https://www.Shop.example:8443/", "ftp://bad"},
		Branding:       webchat.Branding{Shop: `Hoa <Mai> & "Co"`, LogoURL: "https://cdn.shop.example/logo.png", Color: "#1d4ed8"},
	})
	resp, body := getPage(t, ts.URL+"/")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.HasSuffix(csp, "frame-ancestors 'self'") {
		t.Errorf("standalone CSP = %q, want frame-ancestors 'self' only", csp)
	}
	if !strings.Contains(csp, "img-src 'self' data: https://cdn.shop.example;") {
		t.Errorf("standalone CSP = %q, want the logo's origin in img-src", csp)
	}
	for _, want := range []string{`data-shop="Hoa &lt;Mai&gt; &amp; &#34;Co&#34;"`, `src="https://cdn.shop.example/logo.png"`, "--brand: #1d4ed8;", "--on-brand: #ffffff;"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, `class="page embedded"`) {
		t.Error("standalone page is marked embedded")
	}

	resp, body = getPage(t, ts.URL+"/webchat/embed")
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("embed status = %d", got)
	}
	csp = resp.Header.Get("Content-Security-Policy")
	if !strings.HasSuffix(csp, "frame-ancestors 'self' https://shop.example https://www.shop.example:8443") {
		t.Errorf("embed CSP = %q, want the two valid allowed origins", csp)
	}
	if !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe") {
		t.Errorf("embed CSP = %q, want pinned hashes and nothing unsafe", csp)
	}
	if !strings.Contains(body, `class="page embedded"`) {
		t.Error("embed page is not marked embedded")
	}
}

// TestWidgetScript: the script carries the branding and loads the embed
// page from its own origin.
func TestWidgetScript(t *testing.T) {
	_, ts := mustServe(t, newFakeCore(), webchat.Options{Branding: webchat.Branding{Shop: "Tiệm Vàng", Color: "#fde047"}})
	resp, body := getPage(t, ts.URL+"/webchat/widget.js")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("content type = %q", ct)
	}
	// A light colour gets dark text.
	for _, want := range []string{`{"color":"#fde047","on":"#000000","shop":"Tiệm Vàng"}`, "/webchat/embed", "document.currentScript"} {
		if !strings.Contains(body, want) {
			t.Errorf("widget.js lacks %q", want)
		}
	}
}

// TestOriginChecks: a browser page of another site may call the API only
// from an allowed origin, which then gets CORS headers; the chat's own
// page and clients that are not browsers pass.
func TestOriginChecks(t *testing.T) {
	_, ts := mustServe(t, newFakeCore(), webchat.Options{AllowedOrigins: []string{"https://shop.example"}})
	body := `{"session":"s1","id":"m1","text":"xin chào"}`
	host := strings.TrimPrefix(ts.URL, "http://")
	for _, tt := range []struct {
		name   string
		header []string
		status int
		cors   string
	}{
		{"no browser", nil, 200, ""},
		{"own page", []string{"Origin", ts.URL, "Sec-Fetch-Site", "same-origin"}, 200, ""},
		{"own page, old browser", []string{"Origin", "http://" + host}, 200, ""},
		{"allowed site", []string{"Origin", "https://shop.example", "Sec-Fetch-Site", "cross-site"}, 200, "https://shop.example"},
		{"other site", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, 403, ""},
		{"other site, same host name", []string{"Origin", "https://" + host, "Sec-Fetch-Site", "cross-site"}, 403, ""},
		{"opaque origin", []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}, 403, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hdr := append([]string{"Content-Type", "application/json"}, tt.header...)
			req, _ := http.NewRequest("POST", ts.URL+"/webchat/messages", strings.NewReader(body))
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("POST status = %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.cors {
				t.Fatalf("Access-Control-Allow-Origin = %q, want %q", got, tt.cors)
			}
			gresp, _ := getPage(t, ts.URL+"/webchat/messages?session=s1", tt.header...)
			if gresp.StatusCode != tt.status {
				t.Fatalf("GET status = %d, want %d", gresp.StatusCode, tt.status)
			}
		})
	}

	req, _ := http.NewRequest("OPTIONS", ts.URL+"/webchat/messages", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight = %d %v", resp.StatusCode, resp.Header)
	}
}

func TestBrandingValidate(t *testing.T) {
	for _, tt := range []struct {
		b  webchat.Branding
		ok bool
	}{
		{webchat.Branding{}, true},
		{webchat.Branding{Shop: "Hoa Mai", LogoURL: "/static/logo.png", Color: "#0F766E"}, true},
		{webchat.Branding{LogoURL: "http://cdn.example/logo.png"}, false},
		{webchat.Branding{LogoURL: "javascript:alert(1)"}, false},
		{webchat.Branding{LogoURL: "//cdn.example/logo.png"}, false},
		{webchat.Branding{Color: "red"}, false},
		{webchat.Branding{Color: "#12345g"}, false},
		{webchat.Branding{Shop: "a\x1bb"}, false},
	} {
		if err := tt.b.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok %v", tt.b, err, tt.ok)
		}
	}
	if _, err := webchat.ParseOrigins([]string{"https://shop.example/path"}); err == nil {
		t.Error("an origin with a path is accepted")
	}
	if _, err := webchat.ParseOrigins([]string{"https://*.shop.example"}); err == nil {
		t.Error("a wildcard origin is accepted")
	}
}

// TestDisplayFormats: what the core sends reads as people write it (a
// phone in national format, an amount kept with its "₫"); what the
// customer typed comes back as typed.
func TestDisplayFormats(t *testing.T) {
	core := newFakeCore()
	core.noReply = true
	_, ts := mustServe(t, core, webchat.Options{})
	if r := post(t, ts, `{"session":"s1","id":"m1","text":"số mình +84912888999, ngân sách 500.000 ₫"}`); r.Status != 200 {
		t.Fatalf("post: %+v", r)
	}
	core.reply("s1", "Giá 1.250.000 ₫. Nhân viên gọi +84912888999 hoặc +6591234567.")
	_, got := get(t, context.Background(), ts, "session=s1")
	if len(got.Messages) != 2 {
		t.Fatalf("messages = %+v", got.Messages)
	}
	if in, want := got.Messages[0].Text, "số mình +84912888999, ngân sách 500.000 ₫"; in != want {
		t.Errorf("the customer's text = %q, want it as typed %q", in, want)
	}
	if out, want := got.Messages[1].Text, "Giá 1.250.000\u00a0₫. Nhân viên gọi 0912 888 999 hoặc +65 9123 4567."; out != want {
		t.Errorf("the reply = %q, want %q", out, want)
	}
}

// TestPostLang: the language chosen on the page is the customer's hint,
// over the browser's; anything else than vi or en is ignored.
func TestPostLang(t *testing.T) {
	core := newFakeCore()
	_, ts := mustServe(t, core, webchat.Options{})
	for i, tt := range []struct{ lang, want string }{{"en", "en"}, {"vi", "vi"}, {"fr", "vi-VN"}, {"", "vi-VN"}} {
		body := fmt.Sprintf(`{"session":"s1","id":"m%d","text":"hello","lang":%q}`, i, tt.lang)
		if r := post(t, ts, body, "Accept-Language", "vi-VN,vi;q=0.9"); r.Status != 200 {
			t.Fatalf("post: %+v", r)
		}
		calls := core.inbound()
		if got := calls[len(calls)-1].Locale; got != tt.want {
			t.Errorf("lang %q: locale = %q, want %q", tt.lang, got, tt.want)
		}
	}
}
