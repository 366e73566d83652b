package crm_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/idicbot/idicbot/crm"
)

// TestMaskText lists what a log line may and may not show: every phone
// number and email address is masked, everything else that merely looks
// numeric is left exactly as written.
func TestMaskText(t *testing.T) {
	masked := []struct {
		name, in string
		secrets  []string // none of these may survive masking
		keep     []string // these must survive
	}{
		{"plain mobile", "gọi 0912345678 nhé", []string{"912345678", "2345"}, []string{"gọi ", " nhé"}},
		{"spaces", "số của em là 0912 345 678, cảm ơn", []string{"345 678", "2 345"}, []string{"số của em là ", ", cảm ơn"}},
		{"dots", "sdt 0912.345.678", []string{"345.678", "2.345"}, []string{"sdt "}},
		{"dashes", "sđt: 0912-345-678.", []string{"345-678", "2-345"}, []string{"sđt: "}},
		{"parentheses", "liên hệ (0912) 345 678 giờ hành chính", []string{"345 678", "2) 345"}, []string{"liên hệ ", " giờ hành chính"}},
		{"landline in parentheses", "(028) 3822 1234", []string{"3822"}, nil},
		{"landline", "tổng đài 028 3822 1234", []string{"3822"}, []string{"tổng đài "}},
		{"plus 84", "user +84912345678 blocked the bot", []string{"84912345678", "912345", "2345"}, []string{"user ", " blocked the bot"}},
		{"plus 84 spaced", "+84 912 345 678", []string{"345 678", "912 345"}, nil},
		{"plus 84 landline", "+84 (28) 3822 1234", []string{"3822"}, nil},
		{"84 without plus", "phone 84912345678 ok", []string{"912345678"}, []string{"phone ", " ok"}},
		{"00 84", "0084 912 345 678", []string{"345 678"}, nil},
		{"foreign", "call +1 415 555 0100 now", []string{"555 0100", "415 555"}, []string{"call ", " now"}},
		{"full-width digits", "０９１２３４５６７８", []string{"２３４５６"}, nil},
		{"full-width in text", "số mình ０９１２ ３４５ ６７８ nha", []string{"３４５ ６７８"}, []string{"số mình ", " nha"}},
		{"full-width plus and parens", "＋８４（９１２）３４５６７８", []string{"３４５６７８"}, nil},
		{"arabic-indic digits", "٠٩١٢٣٤٥٦٧٨", []string{"٢٣٤٥٦"}, nil},
		{"no-break spaces", "0912\u00a0345\u00a0678", []string{"345\u00a0678"}, nil},
		{"phone word glued", "sdt0912345678", []string{"912345678", "2345"}, []string{"sdt"}},
		{"two phones", "0912345678-0987654321", []string{"2345", "7654", "912345678", "987654321"}, nil},
		{"phone after amount", "1.500.000 đ, gọi 0912345678", []string{"2345"}, []string{"1.500.000 đ, gọi "}},
		{"phone after ip", "from 10.0.0.1 0912345678", []string{"2345"}, []string{"from 10.0.0.1 "}},
		{"email", "mail an.nguyen@example.com", []string{"an.nguyen", "n.nguyen@"}, []string{"@example.com", "mail "}},
		{"email in parentheses", "(an.nguyen@example.com)", []string{"an.nguyen", "n.nguyen@"}, []string{"(", "@example.com)"}},
		{"email after colon", "mailto:lan@shop.vn", []string{"lan@"}, []string{"mailto:", "@shop.vn"}},
		{"email with digits", "0912345678@example.com", []string{"912345678"}, []string{"@example.com"}},
		{"vietnamese email", "ánh.nguyễn@example.com", []string{"nh.nguy", "ễn@"}, []string{"@example.com"}},
	}
	for _, tt := range masked {
		t.Run("masks/"+tt.name, func(t *testing.T) {
			got := crm.MaskText(tt.in)
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("MaskText(%q) = %q: still shows %q", tt.in, got, s)
				}
			}
			for _, s := range tt.keep {
				if !strings.Contains(got, s) {
					t.Errorf("MaskText(%q) = %q: lost %q", tt.in, got, s)
				}
			}
			if !strings.Contains(got, "*") {
				t.Errorf("MaskText(%q) = %q: nothing masked", tt.in, got)
			}
		})
	}

	unchanged := []struct{ name, in string }{
		{"ipv4", "listening on 127.0.0.1:8080"},
		{"ipv4 that starts like a phone", "client 84.103.123.145 sent 3 requests"},
		{"ipv4 with leading zero octets", "peer 0.0.0.0 and 10.10.10.10"},
		{"ipv6", "from [2001:db8:85a3::8a2e:370:7334]:443 and fe80::1%eth0"},
		{"ipv4-mapped ipv6", "::ffff:84.103.123.145"},
		{"amount with dots", "đơn 1.500.000 đ"},
		{"amount with dots large", "tổng 150.000.000 đ, 1.500.000.000đ"},
		{"amount with commas", "total 1,500,000 VND"},
		{"amount shorthand", "tầm 2tr5, 500k, 1,5tr"},
		{"amount plain", "amount=15000000"},
		{"order ref", "order DH-0912345678 and SO0912345678 and HD_0912345678"},
		{"order ref slash", "ref #0912345678 and 2026/0912345678"},
		{"rfc3339", "at 2026-12-04T20:23:09.12345678+07:00"},
		{"date time", "2026-12-04 20:23:24.091234 UTC"},
		{"time with seconds fraction", "20:23:09.0912345"},
		{"duration", "took 1m30.0912345678s, 350ms, 0.0912345678s"},
		{"float", "score=0.0912345678 ratio 3.0912345678"},
		{"telegram ids", "chat 5123456789 user -1001234567890 update 987654321"},
		{"zalo id", "user 8461234567890123456"},
		{"long id starting with 0", "id 01234567890123"},
		{"uuid", "req 0912d345-6789-4abc-8def-0912345678ab"},
		{"hex", "sha 0912345678abcdef09"},
		{"hotline", "hotline 1900 1234"},
		{"short numbers", "3 items, 12 345 678 đ"},
		{"version", "go1.26.8 v0.3.0 bbolt@v1.4.0"},
		{"slack mention", "<@U0912345678> in <#C0912345678>"},
		{"module path", "golang.org/x/text@v0.31.0"},
		{"empty", ""},
		{"vietnamese", "Chào shop, còn hàng không ạ?"},
	}
	for _, tt := range unchanged {
		t.Run("keeps/"+tt.name, func(t *testing.T) {
			if got := crm.MaskText(tt.in); got != tt.in {
				t.Errorf("MaskText(%q) = %q, want it unchanged", tt.in, got)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"+84912345678", "+8491****678"},
		{"0912345678", "091****678"},
		{"+842838221234", "+8428*****234"},
		{"12345", "*****"},
		{"", ""},
	} {
		if got := crm.MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"an.nguyen@example.com", "a***@example.com"},
		{"ánh@example.com", "á***@example.com"},
		{"nope", "***"},
		{"@example.com", "***"},
	} {
		if got := crm.MaskEmail(tt.in); got != tt.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// BenchmarkMaskText measures masking on the strings a log line carries;
// it runs on every string attribute, so the common case (no phone, no
// email) must cost little more than a scan.
func BenchmarkMaskText(b *testing.B) {
	for _, bb := range []struct{ name, in string }{
		{"plain", "telegram: update handled"},
		{"numbers", "outbox item 123456 sent to chat 5123456789 in 35ms at 127.0.0.1:8080"},
		{"vietnamese", "Chào shop, cho mình hỏi iPhone 15 còn hàng không ạ? Giá bao nhiêu vậy, 1.500.000 đ được không"},
		{"phone", "customer wrote: số của em là 0912 345 678 nhé"},
		{"email", "customer wrote: mail an.nguyen@example.com"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				crm.MaskText(bb.in)
			}
		})
	}
}

func TestFindPhoneInOtherDigits(t *testing.T) {
	for _, in := range []string{"sdt ０９１２ ３４５ ６７８ nha", "＋８４９１２３４５６７８", "số ٠٩١٢٣٤٥٦٧٨"} {
		if got, want := crm.FindPhone(in), "+84912345678"; got != want {
			t.Errorf("FindPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFindPhoneInEveryScript writes one number in every script's decimal
// digits: Unicode keeps each script's 0-9 contiguous, which the digit
// reader relies on.
func TestFindPhoneInEveryScript(t *testing.T) {
	var zeros []rune
	for _, rg := range unicode.Nd.R16 {
		for z := rune(rg.Lo); z <= rune(rg.Hi); z += 10 {
			zeros = append(zeros, z)
		}
	}
	for _, rg := range unicode.Nd.R32 {
		for z := rune(rg.Lo); z <= rune(rg.Hi); z += 10 {
			zeros = append(zeros, z)
		}
	}
	for _, z := range zeros {
		var b strings.Builder
		for _, d := range "0912345678" {
			b.WriteRune(z + d - '0')
		}
		in := b.String()
		if got, want := crm.FindPhone("sdt "+in), "+84912345678"; got != want {
			t.Errorf("FindPhone(%q) = %q, want %q", in, got, want)
		}
		if got := crm.MaskText(in); strings.Contains(got, in[len(in)/3:]) || !strings.Contains(got, "*") {
			t.Errorf("MaskText(%q) = %q", in, got)
		}
	}
}

func TestContainsPhone(t *testing.T) {
	for in, want := range map[string]bool{
		"84339654321 1": true, "gọi (0912) 345 678": true, "０９１２３４５６７８": true,
		"1.500.000 đ": false, "127.0.0.1": false, "an@example.com": false, "DH0912345678": false, "": false,
	} {
		if got := crm.ContainsPhone(in); got != want {
			t.Errorf("ContainsPhone(%q) = %v, want %v", in, got, want)
		}
	}
}
