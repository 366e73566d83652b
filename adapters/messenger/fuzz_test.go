package messenger_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/idicbot/idicbot/adapters/messenger"
	"github.com/idicbot/idicbot/adapters/messenger/messengertest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

const fuzzSecret = "app-secret"

// FuzzWebhook posts any body, signed and unsigned, to the webhook: signed,
// it is answered 200 or 4xx (never an error that makes Meta deliver it
// again and again), and every event the core gets has a sender, a message
// id, a kind and a text within MaxTextLen; unsigned, it is refused with 401
// and the core gets nothing.
func FuzzWebhook(f *testing.F) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	ms := now.UnixMilli()
	ev := messengertest.Events{PageID: "1234567890"}
	for _, s := range [][]byte{
		ev.Batch(ms, ev.Text("6789012345678901", "m_1", "xin chào, sdt 0912 345 678", ms)),
		ev.Batch(ms, ev.QuickReply("6789012345678901", "m_2", "+84912345678", "+84912345678", ms)),
		ev.Batch(ms, ev.QuickReply("6789012345678901", "m_3", "Nhận", "offer:welcome:accept", ms)),
		ev.Batch(ms, ev.Postback("6789012345678901", "m_4", "Bắt đầu", "GET_STARTED", ms)),
		ev.Batch(ms, ev.Attachment("6789012345678901", "m_5", "image", "https://scontent.xx/a.jpg", ms), ev.Sticker("6789012345678901", "m_6", ms)),
		ev.Batch(ms, ev.Echo("6789012345678901", "m_7", "Dạ", ms), ev.Read("6789012345678901", ms), ev.Delivery("6789012345678901", []string{"m_1"}, ms)),
		ev.Batch(ms, ev.Text("6789012345678901", "m_8", strings.Repeat("ư", 5000), ms)),
		ev.Batch(-1, ev.Text("", "", "", 0)),
		[]byte(`{"object":"page","entry":[{"id":1,"time":1.5e300,"messaging":[{"sender":{"id":12345678901234567890},"timestamp":"x","message":{"mid":"m","text":"\u0000\ud800"}}]}]}`),
		[]byte(`{"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"postback":{"title":"","payload":""}}]}]}`),
		[]byte(`{"object":"instagram"}`), []byte(`{"object":"page","entry":null}`), []byte(`{}`), []byte(`[]`), []byte(``), []byte("\xff"),
	} {
		f.Add(s, true)
	}
	h := &bottest.Handler{}
	a, err := messenger.New(h, nopStore{}, messenger.Options{PageToken: "page-token", AppSecret: fuzzSecret, VerifyToken: "verify",
		APIURL: "http://127.0.0.1:1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	mux := http.NewServeMux()
	a.Routes(mux)
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		req := httptest.NewRequest(http.MethodPost, messenger.WebhookPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if signed {
			req.Header.Set(messenger.SignatureHeader, messengertest.Signature(body, fuzzSecret))
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		got := h.Take()
		if !signed {
			if rec.Code != http.StatusUnauthorized || len(got) > 0 {
				t.Fatalf("unsigned body: %d, %d events handled", rec.Code, len(got))
			}
			return
		}
		if rec.Code >= 500 {
			t.Fatalf("answered %d: %s", rec.Code, rec.Body)
		}
		for _, in := range got {
			if in.Channel != messenger.Channel || in.UserID == "" || in.MessageID == "" || in.Kind == "" ||
				utf8.RuneCountInString(in.Text) > bot.MaxTextLen {
				t.Fatalf("inbound %+v", in)
			}
			if in.Contact != nil && in.Contact.Self && in.Contact.Phone != "" {
				if p, err := crm.NormalizePhone(in.Contact.Phone); err != nil || p != in.Contact.Phone {
					t.Fatalf("contact phone %q is not normalized", in.Contact.Phone)
				}
			}
		}
	})
}
