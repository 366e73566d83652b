package crm_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/idicbot/idicbot/crm"
)

// Seeds shared by the text fuzzers: what customers type, and what breaks
// parsers.
var textSeeds = []string{
	"", " ", "\x00", "0", "+", "@", "(", "０",
	"số của em là 0912 345 678, mail an.nguyen@example.com",
	"sdt 0912.345.678 nhé", "(0912) 345 678", "+84 (28) 3822 1234", "84912345678",
	"０９１２３４５６７８", "＋８４９１２３４５６７８", "٠٩١٢٣٤٥٦٧٨",
	"listening on 127.0.0.1:8080", "client 84.103.123.145", "[2001:db8::1]:443",
	"đơn 1.500.000 đ", "1,500,000 VND", "tầm 2tr5", "DH-0912345678", "SO0912345678",
	"2026-12-04T20:23:09.0912345+07:00", "took 1.0912345678s",
	"An.Nguyen@Example.COM", "<@U0912345678>", "a@b", "x@@y.com", "golang.org/x/text@v0.31.0",
	"\xff\xfe0912345678", "\xed\xa0\x80", // invalid UTF-8, an encoded lone surrogate
	strings.Repeat("0912345678 ", 200), strings.Repeat("1 ", 2000), strings.Repeat("@", 1000),
	strings.Repeat("9", 40), "0912345678-0987654321", "sdt0912345678",
}

// nationalMobile builds a Vietnamese mobile number from fuzzed bits:
// trunk 0, a carrier digit from 3, 5, 7, 8, 9 and eight more digits.
func nationalMobile(n uint32, carrier uint8) string {
	digits := []byte{'0', "35789"[carrier%5]}
	for i := 0; i < 8; i++ {
		digits = append(digits, byte('0'+n%10))
		n /= 10
	}
	return string(digits)
}

// phoneForms writes a national number (0 + 9 digits) as people write it.
func phoneForm(national string, form uint8) string {
	sub := national[1:] // 9 digits after the trunk 0
	fullWidth := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '０' + r - '0'
			}
			return r
		}, s)
	}
	switch form % 9 {
	case 0:
		return national
	case 1:
		return national[:4] + " " + national[4:7] + " " + national[7:]
	case 2:
		return national[:4] + "." + national[4:7] + "." + national[7:]
	case 3:
		return national[:4] + "-" + national[4:7] + "-" + national[7:]
	case 4:
		return "(" + national[:4] + ") " + national[4:7] + " " + national[7:]
	case 5:
		return "+84" + sub
	case 6:
		return "+84 " + sub[:2] + " " + sub[2:5] + " " + sub[5:]
	case 7:
		return "84" + sub
	default:
		return fullWidth(national)
	}
}

// FuzzMaskText: masking never panics, keeps valid UTF-8 valid, is
// idempotent, and a phone number put into any text between spaces never
// survives it, in whichever common form it is written.
func FuzzMaskText(f *testing.F) {
	for i, s := range textSeeds {
		f.Add(s, "", uint32(12345678+i), uint8(i), uint8(i))
	}
	f.Add("gọi", "nhé", uint32(0), uint8(0), uint8(4))
	f.Add("1.500.000 đ", "10.0.0.1", uint32(99999999), uint8(3), uint8(6))
	f.Fuzz(func(t *testing.T, prefix, suffix string, n uint32, carrier, form uint8) {
		out := crm.MaskText(prefix)
		if utf8.ValidString(prefix) && !utf8.ValidString(out) {
			t.Fatalf("MaskText(%q) = %q: invalid UTF-8", prefix, out)
		}
		// Masked text masked again only hides more digits.
		if again := crm.MaskText(out); !onlyDigitsHidden(out, again) {
			t.Fatalf("MaskText(MaskText(%q)) = %q, MaskText = %q", prefix, again, out)
		}
		if !utf8.ValidString(prefix) {
			return
		}
		if !onlyDigitsHidden(prefix, out) && !strings.Contains(prefix, "@") {
			t.Fatalf("MaskText(%q) = %q: changed more than digits", prefix, out)
		}
		national := nationalMobile(n, carrier)
		phone := phoneForm(national, form)
		text := prefix + " " + phone + " " + suffix
		masked := crm.MaskText(text)
		if strings.Count(masked, phone) >= strings.Count(text, phone) {
			t.Fatalf("MaskText(%q) = %q: the phone %q is still there", text, masked, phone)
		}
	})
}

// onlyDigitsHidden reports whether after is before with some digits
// replaced by '*'.
func onlyDigitsHidden(before, after string) bool {
	b, a := []rune(before), []rune(after)
	if len(a) != len(b) {
		return false
	}
	for i := range b {
		if a[i] != b[i] && (a[i] != '*' || !unicode.IsDigit(b[i])) {
			return false
		}
	}
	return true
}

// FuzzNormalizePhone: a number that normalizes is E.164, normalizes to
// itself again, is found in a sentence by FindPhone and is masked in logs.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	for _, s := range []string{"0912 345 678", "+84912345678", "84912345678", "(028) 3822 1234", "+1 415 555 0100",
		"0084912345678", "+84 (0) 912 345 678", "1900 1234", "0000000000", "+", "++84", "+84", "٠٩١٢٣٤٥٦٧٨"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := crm.NormalizePhone(s)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("NormalizePhone(%q): error code %q: %v", s, crm.ErrorCode(err), err)
			}
			return
		}
		if len(p) < 8 || len(p) > 16 || p[0] != '+' || strings.Trim(p[1:], "0123456789") != "" {
			t.Fatalf("NormalizePhone(%q) = %q: not E.164", s, p)
		}
		if again, err := crm.NormalizePhone(p); err != nil || again != p {
			t.Fatalf("NormalizePhone(%q) = %q, but NormalizePhone(%q) = %q, %v", s, p, p, again, err)
		}
		if got := crm.FindPhone("số của mình là " + p + " nhé"); got != p {
			t.Fatalf("FindPhone does not find %q (from %q): %q", p, s, got)
		}
		if masked := crm.MaskText("phone " + p); strings.Contains(masked, p[1:]) {
			t.Fatalf("MaskText leaves %q: %q", p, masked)
		}
	})
}

// FuzzFindPhone: what FindPhone returns is a normalized number.
func FuzzFindPhone(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := crm.FindPhone(s)
		if p == "" {
			return
		}
		if again, err := crm.NormalizePhone(p); err != nil || again != p {
			t.Fatalf("FindPhone(%q) = %q, which normalizes to %q, %v", s, p, again, err)
		}
	})
}

// FuzzNormalizeEmail: an address that normalizes is lower case, has one
// '@' with a dotted domain, normalizes to itself, is found in a sentence by
// FindEmail and its local part is masked in logs.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	for _, s := range []string{"an.nguyen@example.com", "An Nguyen <an@example.com>", "\"a b\"@example.com",
		"a@b.c", "a@localhost", "lan+shop@example.vn", "ánh@ví.dụ.vn", "a@[127.0.0.1]", "a@b..com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := crm.NormalizeEmail(s)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("NormalizeEmail(%q): error code %q", s, crm.ErrorCode(err))
			}
			return
		}
		if e != strings.ToLower(e) || !strings.Contains(e, "@") || strings.ContainsAny(e, " <>") {
			t.Fatalf("NormalizeEmail(%q) = %q", s, e)
		}
		if again, err := crm.NormalizeEmail(e); err != nil || again != e {
			t.Fatalf("NormalizeEmail(%q) = %q, but again %q, %v", s, e, again, err)
		}
		if got := crm.FindEmail("email: " + s); got != "" {
			if again, err := crm.NormalizeEmail(got); err != nil || again != got {
				t.Fatalf("FindEmail(%q) = %q, which does not normalize to itself", s, got)
			}
		}
		at := strings.LastIndexByte(e, '@')
		if local := e[:at]; utf8.RuneCountInString(local) > 2 && !strings.ContainsAny(local, "\"()[]<>,;:\\/=`'") {
			if masked := crm.MaskText("mail " + e); strings.Contains(masked, local) {
				t.Fatalf("MaskText(%q) = %q: shows the local part", e, masked)
			}
		}
	})
}

func readConfig(f *testing.F, name string) []byte {
	f.Helper()
	data, err := os.ReadFile("../configs/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// yamlSeeds are malformed and hostile YAML documents for every file parser.
var yamlSeeds = []string{
	"", "---", "{}", "[]", "null", "\x00", "\xff", ":", "- -", "? ? ?",
	"a: &a [*a, *a]", "a: &a [x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
	"segments:\n  - name: x\n    rule: \"true\"\n", "offers:\n  - id: x\n", "products:\n  - id: p\n    name: P\n    price: -1\n",
	"segments: [null]", "offers: [null]", "products: [null]", "unknown: 1",
	strings.Repeat("[", 10000), "a: " + strings.Repeat("b", 10000),
}

// FuzzParseSegments: a segments file either is refused (EINVALID) or yields
// rules with distinct names that classify any customer into one of them.
func FuzzParseSegments(f *testing.F) {
	f.Add(readConfig(f, "segments.yaml"))
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	customers := sampleCustomers(now)
	f.Fuzz(func(t *testing.T, data []byte) {
		segs, err := crm.ParseSegments("segments.yaml", data)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("ParseSegments: error code %q: %v", crm.ErrorCode(err), err)
			}
			return
		}
		names := segs.Names()
		if len(names) == 0 {
			t.Fatal("ParseSegments: no error and no segments")
		}
		for i, n := range names {
			if n == "" || slices.Contains(names[:i], n) {
				t.Fatalf("ParseSegments: segment names %q", names)
			}
		}
		for _, c := range customers {
			a, err := segs.Classify(c, now)
			if err == nil && a.Name != "" && !slices.Contains(names, a.Name) {
				t.Fatalf("Classify = %q, not one of %q", a.Name, names)
			}
		}
	})
}

// FuzzSegmentRule: a rule either fails to compile, or runs on any facts
// without panicking (an error at run time is allowed).
func FuzzSegmentRule(f *testing.F) {
	for _, s := range []string{"true", "order_count >= 3 && total_spent > 5000000",
		`"phone" in interests`, "days_since_last_order > 90 and order_count > 0", "is_business or 'b2b' in tags",
		"segment == 'vip'", "1/0 > 0", "total_spent / order_count > 1", "len(tags) > 0", `language matches "^v"`,
		"", "(", "))", "order_count.x", "nil", "1..3 == [1,2,3]", "all(tags, # != '')", strings.Repeat("!", 1000) + "true",
		strings.Repeat("(", 500) + "true" + strings.Repeat(")", 500)} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var facts []crm.Facts
	for _, c := range sampleCustomers(now) {
		facts = append(facts, crm.FactsOf(c, now))
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1000 || strings.Contains(src, "..") {
			// Ranges build arrays as large as asked: a rule is an admin's
			// file, and what it may cost is the admin's choice.
			t.Skip()
		}
		p, err := crm.CompileRule(src)
		if err != nil {
			return
		}
		for _, fa := range facts {
			_, _ = crm.EvalRule(p, fa)
		}
	})
}

// sampleCustomers are customers of every shape the rules see.
func sampleCustomers(now time.Time) []*crm.Customer {
	return []*crm.Customer{
		{},
		{Name: "Nguyễn Thị Lan", Phone: "+84912345678", Tags: []string{"b2b"}, Interests: []string{"phone"}, IsBusiness: true,
			Language: "vi", Stats: crm.Aggregates{Orders: 5, TotalSpent: 25_000_000, FirstSeen: now.AddDate(-1, 0, 0), LastSeen: now,
				LastOrder: now.AddDate(0, 0, -3)}},
		{Name: "Old", Stats: crm.Aggregates{Orders: 1, TotalSpent: 1, FirstSeen: now.AddDate(-5, 0, 0), LastSeen: now.AddDate(-4, 0, 0)}},
	}
}

// FuzzParseCatalog: a catalog that parses has distinct product ids and no
// negative price, and each product is found by its own name.
func FuzzParseCatalog(f *testing.F) {
	f.Add(readConfig(f, "catalog.yaml"))
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("products:\n  - id: a\n    name: \"Điện thoại\"\n    price: 1\n    category: x\ncategories:\n  x: {vi: \"\", en: y}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := crm.ParseCatalog("catalog.yaml", data)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("ParseCatalog: error code %q: %v", crm.ErrorCode(err), err)
			}
			return
		}
		seen := map[string]bool{}
		for _, p := range c.Products {
			if p.ID == "" || p.Name == "" || p.Price < 0 || seen[p.ID] {
				t.Fatalf("ParseCatalog accepted product %+v", p)
			}
			seen[p.ID] = true
			if c.Product(p.ID) == nil {
				t.Fatalf("Product(%q) = nil", p.ID)
			}
			if len(crm.Words(crm.Fold(p.Name))) > 0 && !slices.Contains(c.Match(crm.Fold(p.Name)), p) {
				t.Fatalf("Match(%q) does not find product %q", crm.Fold(p.Name), p.ID)
			}
		}
		_ = c.Categories()
	})
}

// FuzzParseOffers: an offers file either is refused (EINVALID) or every
// offer in it has a distinct id and validates again as it is.
func FuzzParseOffers(f *testing.F) {
	f.Add(readConfig(f, "offers.yaml"))
	for _, s := range yamlSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("offers:\n  - id: x\n    name: X\n    status: active\n    templates: {vi: \"{{range 1000000000000}}{{end}}\"}\n"))
	f.Add([]byte("offers:\n  - id: x\n    name: X\n    status: active\n    templates: {vi: \"{{printf \\\"%0999999d\\\" 1}}\"}\n"))
	segData, err := os.ReadFile("../configs/segments.yaml")
	if err != nil {
		f.Fatal(err)
	}
	segs, err := crm.ParseSegments("segments.yaml", segData)
	if err != nil {
		f.Fatal(err)
	}
	names := segs.Names()
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		offers, err := crm.ParseOffers("offers.yaml", data, names, now)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("ParseOffers: error code %q: %v", crm.ErrorCode(err), err)
			}
			return
		}
		seen := map[string]bool{}
		for _, o := range offers {
			if o == nil || seen[o.ID] {
				t.Fatalf("ParseOffers accepted a nil or repeated offer")
			}
			seen[o.ID] = true
			if err := crm.ValidateOffer(o, names, now); err != nil {
				t.Fatalf("offer %q parsed but does not validate: %v", o.ID, err)
			}
		}
	})
}

// FuzzTemplate: a template either fails to parse, or renders within its
// bounds (or stops with an error), and renders the same twice: nothing of
// one render's budget leaks into the next.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"Chào {{.FirstName}}, mã của bạn là {{.Code}}", "{{vnd .ProductPrice}} {{percent .ProductPrice 95}}",
		"{{title .Name}} {{upper .Code}} {{lower .Segment}} {{default \"bạn\" .Name}}",
		"{{range 1000000000000000}}{{end}}", "{{range $i := 100000}}{{range 100000}}x{{end}}{{end}}",
		"{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}", `{{printf "%0999999d" 1}}`,
		`{{printf "%*d" 1000000000 1}}`, "{{call .Name}}", "{{.Missing}}", "{{", "}}", "{{/*", "\x00{{.Name}}\xff",
		"{{html .Name}}{{js .Name}}{{urlquery .Name}}{{print .Name .Code}}{{println 1}}", "{{block \"b\" .}}{{.Now}}{{end}}",
		"{{range .Name}}{{.}}{{end}}", "{{with $x := .Orders}}{{$x}}{{end}}", "{{len .Name}}{{index .Name 0}}{{slice .Name 1}}",
	} {
		f.Add(s)
	}
	data := crm.TemplateData{Name: "Nguyễn Thị Lan", FirstName: "Lan", Segment: "vip", Lang: "vi", Code: "VIP10", Offer: "VIP",
		Product: "iPhone 15", ProductPrice: 19_990_000, Orders: 5, TotalSpent: 25_000_000, Points: 2500, Until: "31/12/2026",
		Now: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := crm.ParseTemplate("offer", src)
		if err != nil {
			return
		}
		out, err := tpl.Render(data)
		if len(out) > crm.MaxTemplateOutput {
			t.Fatalf("render gave %d bytes, more than %d", len(out), crm.MaxTemplateOutput)
		}
		if err != nil {
			return
		}
		out2, err2 := tpl.Render(data)
		if err2 != nil && strings.Contains(err2.Error(), "takes longer than") {
			return // the time bound depends on how busy the machine is
		}
		if err2 != nil || out2 != out {
			t.Fatalf("second render differs: %q, %v; first %q", out2, err2, out)
		}
	})
}
