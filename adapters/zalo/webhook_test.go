package zalo_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/adapters/zalo/zalotest"
	"github.com/idicbot/idicbot/crm"
)

// The worked example of the spec (§2.2), computed there with sha256sum,
// Python and Go.
const (
	exampleAppID  = "1234567890"
	exampleSecret = "oa_secret_demo"
	exampleTS     = "1700000000000"
	exampleBody   = `{"app_id":"1234567890","sender":{"id":"111"},"recipient":{"id":"222"},"event_name":"user_send_text","message":{"text":"hi","msg_id":"abc123"},"timestamp":"1700000000000"}`
	exampleMAC    = "17e74a3d644dd6250bb601e765cf23f95d7d3f9f2b4b2ba13913c172fb4e1d03"
	exampleHMAC   = "5d663f218d00c590cc15beedb47624018baf537ebfaf4c71a93613e7537c11f7"
)

func TestMACWorkedExample(t *testing.T) {
	if got := len(exampleBody); got != 170 {
		t.Fatalf("example body is %d bytes, the spec says 170", got)
	}
	if got := zalo.MAC(exampleAppID, []byte(exampleBody), exampleTS, exampleSecret); got != exampleMAC {
		t.Fatalf("MAC = %s, want %s", got, exampleMAC)
	}
	// The wrong variant of the spec is indeed HMAC, and must not verify.
	m := hmac.New(sha256.New, []byte(exampleSecret))
	m.Write([]byte(exampleAppID + exampleBody + exampleTS))
	if got := hex.EncodeToString(m.Sum(nil)); got != exampleHMAC {
		t.Fatalf("HMAC variant = %s, want %s", got, exampleHMAC)
	}
	if got := zalotest.MAC(exampleAppID, []byte(exampleBody), exampleTS, exampleSecret); got != exampleMAC {
		t.Fatalf("the fake's MAC = %s, want %s", got, exampleMAC)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(exampleBody)
	tests := []struct {
		name     string
		appID    string
		secret   string
		body     []byte
		header   string
		headerTS string
		ok       bool
	}{
		{"mac= prefix", exampleAppID, exampleSecret, body, "mac=" + exampleMAC, "", true},
		{"bare hex", exampleAppID, exampleSecret, body, exampleMAC, "", true},
		{"upper case and spaces", exampleAppID, exampleSecret, body, "  MAC=" + strings.ToUpper(exampleMAC) + " ", "", true},
		{"HMAC variant refused", exampleAppID, exampleSecret, body, "mac=" + exampleHMAC, "", false},
		{"missing header", exampleAppID, exampleSecret, body, "", "", false},
		{"wrong secret (App Secret instead of OA Secret Key)", exampleAppID, "app_secret", body, "mac=" + exampleMAC, "", false},
		{"another app", "999", exampleSecret, body, "mac=" + exampleMAC, "", false},
		{"body changed by one byte", exampleAppID, exampleSecret, bytes.Replace(body, []byte(`"hi"`), []byte(`"hI"`), 1), "mac=" + exampleMAC, "", false},
		{"re-serialised body refused", exampleAppID, exampleSecret, bytes.ReplaceAll(body, []byte(`,`), []byte(`, `)), "mac=" + exampleMAC, "", false},
		{"header timestamp fallback", exampleAppID, exampleSecret, body,
			"mac=" + zalo.MAC(exampleAppID, body, "1700000000999", exampleSecret), "1700000000999", true},
		{"header timestamp does not rescue a wrong MAC", exampleAppID, exampleSecret, body, "mac=" + exampleHMAC, "1700000000999", false},
		{"not JSON", exampleAppID, exampleSecret, []byte("hello"), "mac=" + exampleMAC, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := zalo.Verify(tt.appID, tt.secret, tt.body, tt.header, tt.headerTS)
			if got := err == nil; got != tt.ok {
				t.Fatalf("Verify ok = %v (%v), want %v", got, err, tt.ok)
			}
		})
	}
}

// A bad or missing signature is answered 401 and nothing is stored; the
// URL check (GET, unsigned {}) is answered 200 and stores nothing.
func TestWebhookRefusesBadSignature(t *testing.T) {
	e := newEnv(t, nil)
	body := e.ev.Text("7813306842916204155", e.msgID(), "xin chào", e.ms())
	send := func(sig string, b []byte) int {
		req, _ := http.NewRequest(http.MethodPost, e.url(), bytes.NewReader(b))
		if sig != "" {
			req.Header.Set(zalo.SignatureHeader, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := zalotest.Signature(body, zalotest.DefaultOASecretKey)
	for _, tc := range []struct {
		name string
		sig  string
		body []byte
		want int
	}{
		{"missing", "", body, http.StatusUnauthorized},
		{"wrong key", zalotest.Signature(body, "not-the-key"), body, http.StatusUnauthorized},
		{"tampered body", good, bytes.Replace(body, []byte("xin chào"), []byte("xin chao"), 1), http.StatusUnauthorized},
		{"garbage", "mac=zz", body, http.StatusUnauthorized},
		{"probe without signature", "", []byte("{}"), http.StatusOK},
		{"empty probe", "", nil, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := send(tc.sig, tc.body); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
		})
	}
	e.flush()
	if c := e.customer(crm.ChannelZalo, "7813306842916204155"); c != nil {
		t.Fatalf("a refused call stored a customer: %+v", c)
	}
	if n := len(e.fake.Sent()); n != 0 {
		t.Fatalf("a refused call was answered: %d messages", n)
	}
	resp, err := http.Get(e.url())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET answered %d, want 200", resp.StatusCode)
	}
	// The same body correctly signed is accepted.
	if got := send(good, body); got != http.StatusOK {
		t.Fatalf("good signature answered %d", got)
	}
	e.flush()
	if c := e.customer(crm.ChannelZalo, "7813306842916204155"); c == nil {
		t.Fatal("the accepted call stored no customer")
	}
}
