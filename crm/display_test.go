package crm_test

import (
	"strings"
	"testing"

	"github.com/idicbot/idicbot/crm"
)

func TestDisplayPhone(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"+84912888999", "0912 888 999"},
		{"+84888123456", "0888 123 456"},
		{"+842838221234", "028 3822 1234"},
		{"+6591234567", "+65 9123 4567"},
		{"0912888999", "0912 888 999"},
		{"", ""},
		{"not a phone", "not a phone"},
		{"+8412", "+8412"}, // invalid: kept as stored
	} {
		if got := crm.DisplayPhone(tt.in); got != tt.want {
			t.Errorf("DisplayPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDisplayMoney(t *testing.T) {
	for _, tt := range []struct {
		in   int64
		want string
	}{
		{1500000, "1.500.000\u00a0₫"},
		{0, "0\u00a0₫"},
		{-199000, "-199.000\u00a0₫"},
	} {
		if got := crm.DisplayMoney(tt.in); got != tt.want {
			t.Errorf("DisplayMoney(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKeepMoneyTogether(t *testing.T) {
	nb := "\u00a0"
	for _, tt := range []struct{ in, want string }{
		{"Giá 199.000 ₫.", "Giá 199.000" + nb + "₫."},
		{"1.500.000 ₫ và 90.000  VND", "1.500.000" + nb + "₫ và 90.000" + nb + "VND"},
		{"chỉ 500 đ thôi", "chỉ 500" + nb + "đ thôi"},
		{"2 triệu đồng", "2 triệu đồng"},
		{"20.000 đồng/cái", "20.000" + nb + "đồng/cái"},
		{"mua 5 đôi giày", "mua 5 đôi giày"}, // a word, not the unit
		{"₫ alone", "₫ alone"},
		{"no money here", "no money here"},
		{"", ""},
	} {
		if got := crm.KeepMoneyTogether(tt.in); got != tt.want {
			t.Errorf("KeepMoneyTogether(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The output of DisplayMoney is already together.
	if s := crm.DisplayMoney(42000); crm.KeepMoneyTogether(s) != s || strings.Contains(s, " ") {
		t.Errorf("DisplayMoney(42000) = %q changes or has a plain space", s)
	}
}
