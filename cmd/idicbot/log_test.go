package main

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
)

func TestLogsMaskPersonalData(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "debug", "json")
	log.Info("customer wrote", "text", "số của em là 0912 345 678, mail an.nguyen@example.com", "phone", "+84912345678")
	log.Error("send failed", "err", errors.New("user +84987654321 blocked the bot"))
	log.Info("customer wrote", "text", "gọi (0913) 456 789 hoặc ０９１４５６７８９０ nha")
	log.Info("callback", "url", &url.URL{Scheme: "https", Host: "shop.vn", Path: "/cb", RawQuery: "phone=0915678901"})
	log.Info("order 0916789012 recorded") // the message itself
	out := buf.String()
	for _, secret := range []string{"345 678", "84912345678", "an.nguyen@", "84987654321",
		"456 789", "５６７８", "0915678901", "5678901", "0916789012", "6789012"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "@example.com") || !strings.Contains(out, "customer wrote") {
		t.Fatalf("log lost too much:\n%s", out)
	}
}

// TestLogsKeepWhatIsNotPersonal: addresses, amounts, times and ids are what
// an operator reads a log for; masking must not touch them.
func TestLogsKeepWhatIsNotPersonal(t *testing.T) {
	for _, keep := range []string{
		"listening on 127.0.0.1:8080",
		"client 84.103.123.145 and [2001:db8::8a2e:370:7334]:443",
		"order total 1.500.000 đ, 1,500,000 VND, 2tr5",
		"order DH-0912345678 ref SO0912345678",
		"at 2026-12-04T20:23:09.0912345+07:00 took 1.0912345678s",
		"chat 5123456789 update 987654321 zalo user 8461234567890123456",
	} {
		var buf bytes.Buffer
		newLogger(&buf, "info", "json").Info("event", "detail", keep)
		if !strings.Contains(buf.String(), `"detail":"`+keep+`"`) {
			t.Errorf("log changed %q:\n%s", keep, buf.String())
		}
	}
}

// BenchmarkLogLine is one typical log line through the masking handler;
// crm's BenchmarkMaskText has the masking alone.
func BenchmarkLogLine(b *testing.B) {
	log := newLogger(io.Discard, "info", "json")
	b.ReportAllocs()
	for b.Loop() {
		log.Info("telegram update handled", "update_id", 123456789, "chat", "5123456789", "text", "Chào shop, iPhone 15 giá bao nhiêu, sdt 0912 345 678", "took_ms", 12)
	}
}
