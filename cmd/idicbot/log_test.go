package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestLogsMaskPersonalData(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "debug")
	log.Info("customer wrote", "text", "số của em là 0912 345 678, mail an.nguyen@example.com", "phone", "+84912345678")
	log.Error("send failed", "err", errors.New("user +84987654321 blocked the bot"))
	out := buf.String()
	for _, secret := range []string{"345 678", "84912345678", "an.nguyen@", "84987654321"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "@example.com") || !strings.Contains(out, "customer wrote") {
		t.Fatalf("log lost too much:\n%s", out)
	}
}
