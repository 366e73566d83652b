package i18n_test

import (
	"sync"
	"testing"

	"github.com/idicbot/idicbot/i18n"
)

var table = []i18n.Message{
	{ID: "orders", VI: "%[1]d đơn hàng của %[2]s", EN: i18n.Plural(1, "%[1]d order by %[2]s", "%[1]d orders by %[2]s")},
	{ID: "hello", VI: "Xin chào", EN: "Hello"},
}

func TestPrinterPlurals(t *testing.T) {
	c := i18n.MustCatalog(table)
	tests := []struct {
		lang i18n.Lang
		n    int
		want string
	}{
		{i18n.Vietnamese, 1, "1 đơn hàng của #155"},
		{i18n.Vietnamese, 1500, "1.500 đơn hàng của #155"},
		{i18n.English, 1, "1 order by #155"},
		{i18n.English, 0, "0 orders by #155"},
		{i18n.English, 1500, "1,500 orders by #155"},
	}
	for _, tt := range tests {
		if got := c.Printer(tt.lang).T("orders", tt.n, "#155"); got != tt.want {
			t.Errorf("%s T(orders, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
	if got, want := c.Printer("fr").T("hello"), "Xin chào"; got != want {
		t.Errorf("unsupported language printed %q, want the default %q", got, want)
	}
	if got, want := c.Printer(i18n.English).T("nope"), "[nope]"; got != want {
		t.Errorf("unknown id printed %q, want %q", got, want)
	}
}

func TestNewCatalogChecks(t *testing.T) {
	bad := map[string][]i18n.Message{
		"no id":        {{VI: "a", EN: "b"}},
		"twice":        {{ID: "a", VI: "a", EN: "a"}, {ID: "a", VI: "b", EN: "b"}},
		"missing en":   {{ID: "a", VI: "a"}},
		"empty vi":     {{ID: "a", VI: "", EN: "a"}},
		"not a string": {{ID: "a", VI: 3, EN: "a"}},
	}
	for name, tbl := range bad {
		if _, err := i18n.NewCatalog(tbl); err == nil {
			t.Errorf("%s: NewCatalog accepted it", name)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]i18n.Lang{"en": i18n.English, "EN-us": i18n.English, "English": i18n.English,
		"vi": i18n.Vietnamese, "vi_VN": i18n.Vietnamese, "Tiếng Việt": i18n.Vietnamese} {
		if got, ok := i18n.Parse(in); !ok || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := i18n.Parse("fr"); ok {
		t.Error(`Parse("fr") accepted it`)
	}
	if got := i18n.OrDefault(""); got != i18n.Vietnamese {
		t.Errorf(`OrDefault("") = %q, want vi`, got)
	}
}

func TestPrinterConcurrent(t *testing.T) {
	p := i18n.MustCatalog(table).Printer(i18n.English)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				if got := p.T("orders", i*j, "x"); got == "" {
					t.Error("empty text")
				}
			}
		})
	}
	wg.Wait()
}
