package bot

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/idicbot/idicbot/crm"
)

// amountSeeds are amounts as reps and customers type them, and nonsense.
// (crm.FuzzParseAmount fuzzes the reading of one amount.)
var amountSeeds = []string{
	"1500000", "1.500.000", "1,500,000", "1,5tr", "1.5tr", "1tr5", "1.5m", "2tr", "2 triệu", "500k", "500 nghìn",
	"500.000đ", "1,2 tỷ", "5 củ", "15tr5", "9.223.372.036.854.775.807", "922337203685tr", "9999999999999 tỷ",
	"0", "-5", "", " ", ".", ",", "1..5tr", "1,5,5tr", "tr", "k5", "1tr5k", "0.0000001tr", "1.50000000000000000001tr",
	"１５００００００", "1\x00tr", "\xff", "1e9", "0x10", "+1", "1 000 000", "vnd 500k", "500 VND", "₫",
}

// FuzzFindPriceRange: a price range read from any message is well formed:
// bounds not negative, at least one set, the floor under the ceiling, an
// "around" amount inside its range, and no bound under the smallest price.
func FuzzFindPriceRange(f *testing.F) {
	for _, s := range amountSeeds {
		f.Add(s)
	}
	for _, s := range []string{"điện thoại dưới 5 triệu", "tầm 10tr", "từ 20 đến 30 triệu", "anything under 2 million?",
		"trên 20tr", "khoảng 15 củ", "cáp sạc 1m", "gọi 0912.345.678", "dưới 9999999999999999 tỷ", "từ 30 đến 20 triệu",
		"tầm 922337203685477tr", "between 1 and 2 million", "rẻ hơn tầm 5 củ", "dưới 5", "tu 1tr den 1tr"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := findPriceRange(crm.Fold(s))
		if r == nil {
			return
		}
		switch {
		case r.Min < 0 || r.Max < 0 || r.Around < 0, r.Min == 0 && r.Max == 0,
			r.Max != 0 && r.Min > r.Max,
			r.Around != 0 && (r.Around < r.Min || r.Max != 0 && r.Around > r.Max),
			r.Max != 0 && r.Max < minPrice, r.Min != 0 && r.Min < minPrice*7/10:
			t.Fatalf("findPriceRange(%q) = %+v", s, *r)
		}
	})
}

// importSeeds are the import test files plus hostile CSV.
func importSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob("testdata/import/*.csv")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	for _, s := range []string{"", "\xEF\xBB\xBF", "\n\n\n", "\"", "a,b\n\"c", "external_id\n\x00\n", "external_id,name\n1,\xff\n",
		"EXTERNAL_ID , Phone\n1, (028) 3822 1234\n", "external_id,external_id\n1,2\n", "order_ref,customer,amount,date\nA,C1,1.500.000đ,04/12/2026\n",
		"order_ref,customer,amount,date\nA,C1,-1,2099-01-01\nA,C1,9999999999999999999,2026-02-30\n",
		"external_id,birthday,is_business,language,tags\nx,31/12/1899,có,VI,a; A ;b\n", strings.Repeat("a,", 1000) + "\n"} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

var fuzzNow = time.Date(2026, 12, 4, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// FuzzImportCustomers: reading a customers file never fails on bytes (only
// a read error is an error); every problem names a line; every row without
// a problem holds normalized, valid values.
func FuzzImportCustomers(f *testing.F) {
	for _, s := range importSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		probs := &rowProblems{}
		tab, err := readCSV(bytes.NewReader(data), customerColumns, []string{"external_id"}, probs)
		if err != nil {
			t.Fatalf("readCSV: %v", err)
		}
		rows := parseCustomerRows(tab, fuzzNow, probs)
		bad := problemLines(t, probs)
		if bad[1] {
			return // the header is wrong: the whole file is refused
		}
		for _, r := range rows {
			if bad[r.line] {
				continue
			}
			if r.ext == "" || !utf8.ValidString(r.name) || r.language != "" && r.language != "vi" && r.language != "en" {
				t.Fatalf("row %d accepted: %+v", r.line, *r)
			}
			if r.phone != "" {
				if p, err := crm.NormalizePhone(r.phone); err != nil || p != r.phone {
					t.Fatalf("row %d: phone %q is not normalized", r.line, r.phone)
				}
			}
			if r.email != "" {
				if e, err := crm.NormalizeEmail(r.email); err != nil || e != r.email {
					t.Fatalf("row %d: email %q is not normalized", r.line, r.email)
				}
			}
			if r.birthday != nil && (r.birthday.After(fuzzNow) || r.birthday.Year() < 1900) {
				t.Fatalf("row %d: birthday %v", r.line, r.birthday)
			}
		}
	})
}

// FuzzImportOrders: as FuzzImportCustomers, for orders: a row without a
// problem has a reference, a customer, a positive amount and a date that is
// not after today.
func FuzzImportOrders(f *testing.F) {
	for _, s := range importSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		probs := &rowProblems{}
		tab, err := readCSV(bytes.NewReader(data), orderColumns, []string{"order_ref", "customer", "amount", "date"}, probs)
		if err != nil {
			t.Fatalf("readCSV: %v", err)
		}
		rows := parseOrderRows(tab, fuzzNow, probs)
		bad := problemLines(t, probs)
		y, m, d := fuzzNow.Date()
		tomorrow := time.Date(y, m, d+1, 0, 0, 0, 0, fuzzNow.Location())
		if bad[1] {
			return // the header is wrong: the whole file is refused
		}
		for _, r := range rows {
			if bad[r.line] {
				continue
			}
			if r.ref == "" || r.customer == "" || r.amount <= 0 || r.time.IsZero() || !r.time.Before(tomorrow) {
				t.Fatalf("row %d accepted: %+v", r.line, *r)
			}
		}
	})
}

// problemLines checks that every problem names a line and a column, and
// returns the lines that have one.
func problemLines(t *testing.T, probs *rowProblems) map[int]bool {
	t.Helper()
	bad := map[int]bool{}
	for _, p := range probs.list {
		if p.Line < 1 || p.Column == "" || p.Reason == "" {
			t.Fatalf("problem without line, column or reason: %+v", p)
		}
		bad[p.Line] = true
	}
	return bad
}
