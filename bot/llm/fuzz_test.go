package llm

import (
	"strings"
	"testing"
)

// textSeeds are what customers and drafts write about money and contact.
var textSeeds = []string{
	"", " ", "\x00", "\xff\xfe", "\xed\xa0\x80", "khoảng 15 triệu", "tầm 15tr", "500k", "15.000.000đ", "under 20 million",
	"từ 10 đến 15 triệu", "18tr990", "15tr5", "giảm 10%", "giảm giá 50 phần trăm", "19.990.000 ₫ và 1,5tr",
	"99999999999999999999999 triệu", "1e308 tr", "9223372036854775807 củ", "1.5.5 tr", strings.Repeat("9", 400) + "k",
	"gọi 0912 345 678 hoặc an@example.com", "sdt (028) 3822 1234", "+84 912 345 678", "giao tới 12 Lý Thường Kiệt, Hoàn Kiếm",
	"số 45/3 đường Nguyễn Trãi", strings.Repeat("1 tr ", 500), "iPhone 15 giá 19.990.000 ₫",
}

// FuzzParseBudget: amounts read from any text are not negative, and the
// budget is the largest of them.
func FuzzParseBudget(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var most int64
		for _, a := range amounts(s) {
			if a.vnd < 0 || a.isPct && a.percent < 0 {
				t.Fatalf("amounts(%q) has %+v", s, a)
			}
			if !a.isPct {
				most = max(most, a.vnd)
			}
		}
		if got := ParseBudget(s); got != most {
			t.Fatalf("ParseBudget(%q) = %d, want %d", s, got, most)
		}
	})
}

// FuzzScrub: no phone number written the common ways and no email address
// put into any text reaches a prompt.
func FuzzScrub(f *testing.F) {
	for i, s := range textSeeds {
		f.Add(s, "", uint32(12345678+i), uint8(i))
	}
	f.Add("sdt", "nha", uint32(87654321), uint8(30))          // full-width digits
	f.Add("sdt", "k biết đúng k", uint32(87654321), uint8(0)) // "k" is "không" here, not thousands
	f.Fuzz(func(t *testing.T, prefix, suffix string, n uint32, form uint8) {
		_ = Scrub(prefix)
		digits := []byte{'0', "35789"[form%5]}
		for i := 0; i < 8; i++ {
			digits = append(digits, byte('0'+n%10))
			n /= 10
		}
		national := string(digits)
		phone := [...]string{
			national,
			national[:4] + " " + national[4:7] + " " + national[7:],
			national[:4] + "." + national[4:7] + "." + national[7:],
			national[:4] + "-" + national[4:7] + "-" + national[7:],
			"+84" + national[1:],
			"84" + national[1:],
			strings.Map(func(r rune) rune { return r - '0' + '０' }, national),
		}[int(form/5)%7]
		email := "khach" + national[4:] + "@example.com"
		text := prefix + " " + phone + " " + suffix + " " + email + " "
		out := Scrub(text)
		if strings.Count(out, phone) >= strings.Count(text, phone) {
			t.Fatalf("Scrub(%q) = %q: the phone %q is still there", text, out, phone)
		}
		if strings.Count(out, email) >= strings.Count(text, email) {
			t.Fatalf("Scrub(%q) = %q: the email %q is still there", text, out, email)
		}
	})
}
