package crm_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/crm"
)

func TestParseAmount(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"1500000", 1_500_000},
		{"1.500.000", 1_500_000},
		{"1,500,000", 1_500_000},
		{"1,5tr", 1_500_000},
		{"1.5tr", 1_500_000},
		{"1tr5", 1_500_000},
		{"2tr5", 2_500_000},
		{"1tr250", 1_250_000},
		{"18tr990", 18_990_000},
		{"1.5m", 1_500_000},
		{"1.5M", 1_500_000},
		{"1m5", 1_500_000},
		{"2tr", 2_000_000},
		{"2 triệu", 2_000_000},
		{"2 trieu", 2_000_000},
		{"2 TRIỆU", 2_000_000},
		{"1,25 triệu", 1_250_000},
		{"3 củ", 3_000_000},
		{"5 củ", 5_000_000},
		{"500k", 500_000},
		{"500K", 500_000},
		{"500 nghìn", 500_000},
		{"500 ngàn", 500_000},
		{"2k5", 2_500},
		{"2.5k", 2_500},
		{"0.5tr", 500_000},
		{"1 tỷ", 1_000_000_000},
		{"1ty", 1_000_000_000},
		{"1 tỉ", 1_000_000_000},
		{"1.2 tỷ", 1_200_000_000},
		{"1,2 tỷ", 1_200_000_000},
		{"2 million", 2_000_000},
		{"1.5 billion", 1_500_000_000},
		{"2bn", 2_000_000_000},
		{"500.000đ", 500_000},
		{"500.000 ₫", 500_000},
		{"500.000₫", 500_000},
		{"500000 VND", 500_000},
		{"500000 vnđ", 500_000},
		{"500000 VNĐ", 500_000},
		{"2 triệu đồng", 2_000_000},
		{"1tr5đ", 1_500_000},
		{"  750000 ", 750_000},
		// A separator before three digits groups thousands, with a unit or not;
		// any other one is a decimal point, and only with a unit.
		{"1.500", 1_500},
		{"1,500", 1_500},
		{"1.500k", 1_500_000},
		{"2.350 triệu", 2_350_000_000},
		{"1.25tr", 1_250_000},
		{"1.2345tr", 1_234_500},
		// Leading zeros are the caller's business (a phone number, for one).
		{"0912345678", 912_345_678},
		{"1.000.000.000.000.000 ₫", crm.MaxAmount},
	}
	for _, tt := range good {
		t.Run(tt.in, func(t *testing.T) {
			got, err := crm.ParseAmount(tt.in)
			if err != nil {
				t.Fatalf("ParseAmount(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseAmount(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
	bad := []struct{ in, why string }{
		{"", "is not an amount"},
		{"abc", "is not an amount"},
		{"tr", "is not an amount"},
		{"k5", "is not an amount"},
		{"₫", "is not an amount"},
		{"1,5", "is not an amount"},
		{"1.5", "is not an amount"},
		{"1.50.000", "is not an amount"},
		{"12,34,567", "is not an amount"},
		{"1.500,000", "is not an amount"},
		{"1.5.0tr", "is not an amount"},
		{"1..5tr", "is not an amount"},
		{"1,5,5tr", "is not an amount"},
		{"1.5tr5", "is not an amount"},
		{"1tr5k", "is not an amount"},
		{"1tr5000", "is not an amount"},
		{"1.500.000k", "is not an amount"},
		{"5.000.000 triệu", "is not an amount"},
		{"1.5x", "is not an amount"},
		{"256gb", "is not an amount"},
		{"1m cáp", "is not an amount"},
		{"iphone 15", "is not an amount"},
		{"0912 345 678", "is not an amount"},
		{"0912.345.678", "is not an amount"},
		{"1 000 000", "is not an amount"},
		{"3ng", "is not an amount"},
		{"2b", "is not an amount"},
		{"1e9", "is not an amount"},
		{"0x10", "is not an amount"},
		{"+1", "is not an amount"},
		{"１５００００００", "is not an amount"},
		{"1\x00tr", "is not an amount"},
		{"\xff", "is not an amount"},
		{"-5", "must be positive"},
		{"-200000", "must be positive"},
		{"0", "must be positive"},
		{"0k", "must be positive"},
		{"0,0tr", "must be positive"},
		{"1.2345k", "finer than one đồng"},
		{"0.0000001tr", "finer than one đồng"},
		{"1.000.000.000.000.001", "is more than 1.000.000.000.000.000 ₫"},
		{"9.223.372.036.854.775.807", "is more than"},
		{"99999999999999999999", "is more than"},
		{"922337203685tr", "is more than"},
		{"9999999999999 tỷ", "is more than"},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.in, func(t *testing.T) {
			got, err := crm.ParseAmount(tt.in)
			if err == nil || crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("ParseAmount(%q) = %d, %v; want an EINVALID error", tt.in, got, err)
			}
			if msg := crm.ErrorMessage(err); !strings.Contains(msg, tt.why) || !strings.Contains(msg, strconv.Quote(tt.in)) {
				t.Fatalf("ParseAmount(%q): %q, want it to quote the input and say %q", tt.in, msg, tt.why)
			}
		})
	}
}

func TestReadAmount(t *testing.T) {
	m, err := crm.ReadAmount(" 1,5 triệu đồng")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%d-%d %q %q %q %q %d", m.Start, m.End, m.Number, m.Unit, m.Tail, m.Currency, m.VND),
		`1-20 "1,5" "trieu" "" "dong" 1500000`; got != want {
		t.Fatalf("ReadAmount = %s, want %s", got, want)
	}
	if m, err := crm.ReadAmount("1.500.000"); err != nil || m.Unit != "" || !m.Grouped() {
		t.Fatalf("ReadAmount(1.500.000) = %+v, %v; want grouped, no unit", m, err)
	}
}

// TestFindAmounts: every number with what is written after it, and nothing
// decided for the caller but the reading.
func TestFindAmounts(t *testing.T) {
	tests := []struct {
		text string
		want []string // text[Start:End]=VND, or =! when it cannot be read
	}{
		{"điện thoại dưới 5 triệu nhé", []string{"5 triệu=5000000"}},
		{"tầm 15tr5 hay 18tr990", []string{"15tr5=15500000", "18tr990=18990000"}},
		{"giá 19.990.000 ₫ và 1,5tr", []string{"19.990.000 ₫=19990000", "1,5tr=1500000"}},
		{"từ 5 đến 10 triệu", []string{"5=5", "10 triệu=10000000"}},
		{"laptop 20-30tr", []string{"20=20", "30tr=30000000"}},
		{"mua 2 cái 500k", []string{"2=2", "500k=500000"}},
		{"iphone 15 pro max 256gb", []string{"15=15"}},
		{"iPhone15", []string{"15=15"}},
		{"cáp sạc 1m có không", []string{"1m=1000000"}},
		{"pin 5000mAh", nil},
		{"sdt 0912345678", []string{"0912345678=912345678"}},
		{"số mình 0912.345.678.", []string{"0912.345.678=!"}},
		{"gọi 0912 345 678", []string{"0912=912", "345=345", "678=678"}},
		{"giảm 10% nhé", []string{"10=10"}},
		{"1,5 thôi", []string{"1,5=!"}},
		{"5 trăm", []string{"5=5"}},
		{"5 tr5000", []string{"5=5", "5000=5000"}},
		{"3ng đi ăn", nil},
		{"hết 1 tỷ 2", []string{"1 tỷ=1000000000", "2=2"}},
		{"2 triệu đồng.", []string{"2 triệu đồng=2000000"}},
		{"HẾT 500K", []string{"500K=500000"}},
		{"(~500k)", []string{"500k=500000"}},
		{"1.500.000.", []string{"1.500.000=1500000"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var got []string
			for _, m := range crm.FindAmounts(tt.text) {
				v := strconv.FormatInt(m.VND, 10)
				if m.Err != nil {
					v = "!"
					if crm.ErrorCode(m.Err) != crm.EINVALID || m.VND != 0 {
						t.Errorf("%q: %d, %v", tt.text[m.Start:m.End], m.VND, m.Err)
					}
				}
				got = append(got, tt.text[m.Start:m.End]+"="+v)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("FindAmounts(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// amountSeeds are amounts as reps and customers type them, and nonsense.
var amountSeeds = []string{
	"1500000", "1.500.000", "1,500,000", "1,5tr", "1.5tr", "1tr5", "1.5m", "2tr", "2 triệu", "500k", "500 nghìn",
	"500.000đ", "1,2 tỷ", "5 củ", "15tr5", "9.223.372.036.854.775.807", "922337203685tr", "9999999999999 tỷ",
	"0", "-5", "", " ", ".", ",", "1..5tr", "1,5,5tr", "tr", "k5", "1tr5k", "0.0000001tr", "1.50000000000000000001tr",
	"１５００００００", "1\x00tr", "\xff", "1e9", "0x10", "+1", "1 000 000", "vnd 500k", "500 VND", "₫",
	"1.5 billion", "2 million", "1.500k", "1.000.000.000.000.000 ₫", "1tr999", "0.5tr", "1.2345tr",
}

// FuzzParseAmount: an amount either is refused (EINVALID) or is a positive
// number of đồng, at most MaxAmount, that reads back the same written plainly
// or as the shop writes it (crm.VND: "1.500.000 ₫"); and FindAmounts finds
// it, alone, in the text.
func FuzzParseAmount(f *testing.F) {
	for _, s := range amountSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range crm.FindAmounts(s) {
			if m.Start < 0 || m.End > len(s) || m.Start >= m.End || (m.Err == nil) != (m.VND > 0) || m.VND > crm.MaxAmount {
				t.Fatalf("FindAmounts(%q) has %+v", s, m)
			}
		}
		v, err := crm.ParseAmount(s)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("ParseAmount(%q): error code %q: %v", s, crm.ErrorCode(err), err)
			}
			return
		}
		if v <= 0 || v > crm.MaxAmount {
			t.Fatalf("ParseAmount(%q) = %d, want in (0, %d]", s, v, crm.MaxAmount)
		}
		for _, w := range []string{strconv.FormatInt(v, 10), crm.VND(v)} {
			if again, err := crm.ParseAmount(w); err != nil || again != v {
				t.Fatalf("ParseAmount(%q) = %d, but ParseAmount(%q) = %d, %v", s, v, w, again, err)
			}
		}
		if ms := crm.FindAmounts(s); len(ms) != 1 || ms[0].VND != v {
			t.Fatalf("ParseAmount(%q) = %d, but FindAmounts finds %+v", s, v, ms)
		}
	})
}
