package llm

import (
	"fmt"
	"testing"
)

// TestAmounts: what a draft names as money or a percentage, read by
// crm.FindAmounts with the guard's own rule for numbers without a unit.
func TestAmounts(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"iPhone 15 128GB có giá 19.990.000 ₫ ạ.", "[19990000]"},
		{"giá 19990000 thôi", "[19990000]"},
		{"chỉ 18tr990 hoặc 15tr5", "[18990000 15500000]"},
		{"1,5 triệu, 500k, 500 nghìn, 3 củ", "[1500000 500000 500000 3000000]"},
		{"giảm 10% hoặc 50 phần trăm, 30 off", "[10% 50% 30%]"},
		{"trả góp 0% cho đơn từ 3.000.000 ₫", "[0% 3000000]"},
		{"Anker 10000mAh, iPhone 15, M3 13 inch", "[]"},
		{"gọi 0912.345.678 nhé", "[]"},
		// Money in tỷ or billions is checked like any other.
		{"căn hộ 1 tỷ 2", "[1000000000]"},
		{"about 1.5 billion", "[1500000000]"},
		// Money that cannot be read cannot be checked: a draft may not name it.
		{"chỉ 1.500.000k", "[?1.500.000k]"},
		{"phí 0 đ", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var got []string
			for _, a := range amounts(tt.text) {
				switch {
				case a.unreadable:
					got = append(got, "?"+a.text)
				case a.isPct:
					got = append(got, fmt.Sprintf("%g%%", a.percent))
				default:
					got = append(got, fmt.Sprint(a.vnd))
				}
			}
			if s := fmt.Sprint(got); s != tt.want {
				t.Fatalf("amounts(%q) = %s, want %s", tt.text, s, tt.want)
			}
		})
	}
}

// TestCheckRefusesUnreadableMoney: an amount the guard cannot read is not
// let through unchecked.
func TestCheckRefusesUnreadableMoney(t *testing.T) {
	al := newAllowed()
	al.addText("iPhone 15 128GB: 19.990.000 ₫")
	for draft, want := range map[string]bool{
		"iPhone 15 giá 19.990.000 ₫ ạ": true,
		"iPhone 15 giá 19tr990 ạ":      true,
		"iPhone 15 giá 1.500.000k ạ":   false,
		"iPhone 15 giá 1 tỷ ạ":         false,
	} {
		if got := al.check(draft) == ""; got != want {
			t.Errorf("check(%q) = %q, want sent=%v", draft, al.check(draft), want)
		}
	}
}
