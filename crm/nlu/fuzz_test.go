package nlu_test

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAnalyze: any text is read without a panic, with a confidence between
// 0 and 1, an address taken from the text itself and a reference with digits.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "sp em mua bị lỗi", "giao về 12 Lý Thường Kiệt giúp mình", "đơn #1234", "0912.345.678",
		"a@b.vn", "don't", "’", "#", "đơn ", "giao ve", "\x00\xff", "xin chào shop ơi có gì dưới 2 triệu không"} {
		f.Add(s)
	}
	c := defaultClassifier(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || len(s) > 4000 {
			return
		}
		r := c.Analyze(s)
		if math.IsNaN(r.Confidence) || r.Confidence < 0 || r.Confidence > 1.0001 {
			t.Fatalf("%q: confidence %v", s, r.Confidence)
		}
		if r.Address != "" && !strings.Contains(s, r.Address) {
			t.Fatalf("%q: address %q is not in the text", s, r.Address)
		}
		if r.OrderRef != "" && !strings.ContainsAny(r.OrderRef, "0123456789") {
			t.Fatalf("%q: reference %q has no digits", s, r.OrderRef)
		}
	})
}
