package crm

import (
	"strings"
	"testing"
)

func TestParseCatalogCategoryNames(t *testing.T) {
	const products = "shop: S\nproducts:\n  - {id: ao, name: Áo thun, price: 150000, category: fashion}\n"
	for _, tc := range []struct {
		name, yaml, err string
	}{
		{"named", products + "categories:\n  fashion: {vi: \"thời trang\", en: fashion}\n", ""},
		{"none", products, ""},
		{"a category no product has", products + "categories:\n  shoes: {vi: giày}\n", `"shoes" is no product's category`},
		{"an unknown language", products + "categories:\n  fashion: {fr: mode}\n", `language "fr"`},
		{"an empty name", products + "categories:\n  fashion: {vi: \" \"}\n", "empty name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCatalog("catalog.yaml", []byte(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "catalog.yaml") {
					t.Fatalf("err = %v, want one naming the file and %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "named" && (c.CategoryName("vi", "fashion") != "thời trang" || c.CategoryName("en", "fashion") != "fashion") {
				t.Fatalf("names %v", c.CategoryNames)
			}
			if tc.name == "none" && c.CategoryName("vi", "fashion") != "" {
				t.Fatalf("a name without a categories section: %q", c.CategoryName("vi", "fashion"))
			}
		})
	}
}

func TestParseCatalogStockVariantsRelations(t *testing.T) {
	const head = "shop: S\nproducts:\n"
	for _, tc := range []struct {
		name, yaml, err string
	}{
		{"variants", head + "  - {id: ip, name: iPhone, price: 1, category: phone, goes_with: [case], variants: [{kind: color, name: Hồng, name_en: Pink, stock: 0}, {kind: color, name: Đen, stock: 2}]}\n  - {id: case, name: Ốp, price: 1, category: acc, stock: 0}\n", ""},
		{"negative stock", head + "  - {id: ip, name: iPhone, price: 1, category: phone, stock: -1}\n", "stock must not be negative"},
		{"variant without a kind", head + "  - {id: ip, name: iPhone, price: 1, category: phone, variants: [{name: Đen}]}\n", "kind and name are required"},
		{"goes with an unknown product", head + "  - {id: ip, name: iPhone, price: 1, category: phone, goes_with: [nope]}\n", `"nope" is no other product`},
		{"next is itself", head + "  - {id: ip, name: iPhone, price: 1, category: phone, next: [ip]}\n", `"ip" is no other product`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCatalog("catalog.yaml", []byte(tc.yaml))
			if tc.err != "" {
				if err == nil || ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want EINVALID about %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ip, cs := c.Product("ip"), c.Product("case")
			if !ip.Available() || cs.Available() {
				t.Fatalf("available: iPhone %v (a variant in stock), case %v (stock 0)", ip.Available(), cs.Available())
			}
			vs := ip.MatchVariants(" con mau hong khong ")
			if len(vs) != 1 || vs[0].DisplayName("en") != "Pink" || vs[0].Available() {
				t.Fatalf("variants read from \"còn màu hồng không\": %+v", vs)
			}
			if got := c.MaskPadded(" gia iphone nay ", "xsp"); got != " gia xsp nay " {
				t.Fatalf("masked %q", got)
			}
		})
	}
}
