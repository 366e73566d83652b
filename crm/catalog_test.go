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
