package bot

import (
	"strings"
	"testing"

	"github.com/idicbot/idicbot/crm"
)

func TestFindPriceRange(t *testing.T) {
	for _, tc := range []struct {
		text string
		want *PriceRange
	}{
		{"điện thoại dưới 5 triệu", &PriceRange{Max: 5_000_000}},
		{"dien thoai duoi 5tr", &PriceRange{Max: 5_000_000}},
		{"có gì dưới 500k không", &PriceRange{Max: 500_000}},
		{"giá không quá 10.000.000đ", &PriceRange{Max: 10_000_000}},
		{"còn con nào rẻ hơn tầm 5 củ không", &PriceRange{Max: 5_000_000}},
		{"anything under 2 million?", &PriceRange{Max: 2_000_000}},
		{"less than 1.5m please", &PriceRange{Max: 1_500_000}},
		{"laptop trên 20 triệu", &PriceRange{Min: 20_000_000}},
		{"phones over 15 million", &PriceRange{Min: 15_000_000}},
		{"tầm 10tr", &PriceRange{Min: 7_000_000, Max: 13_000_000, Around: 10_000_000}},
		{"có con nào tầm 9tr5 không", &PriceRange{Min: 6_650_000, Max: 12_350_000, Around: 9_500_000}},
		{"around 10 million", &PriceRange{Min: 7_000_000, Max: 13_000_000, Around: 10_000_000}},
		{"điện thoại 5 triệu", &PriceRange{Min: 3_500_000, Max: 6_500_000, Around: 5_000_000}},
		{"từ 5 đến 10 triệu", &PriceRange{Min: 5_000_000, Max: 10_000_000}},
		{"laptop 20-30tr", &PriceRange{Min: 20_000_000, Max: 30_000_000}},
		{"between 5 and 10 million", &PriceRange{Min: 5_000_000, Max: 10_000_000}},
		// Not prices.
		{"giá iphone 15 bao nhiêu", nil},
		{"sdt của mình là 0912345678", nil},
		{"số mình 0912.345.678", nil},
		{"mua 2 cái", nil},
		{"giảm 5% à", nil},
		{"mã HOT5 còn dùng được không", nil},
		{"iphone 15 pro max 256gb", nil},
		{"dưới 5 được không", nil},
		{"tôi 25 tuổi", nil},
		{"5 máy", nil},
		{"cáp sạc 1m có không", nil},
		{"cáp sạc có 1m không", nil},
		{"under 1.5m", &PriceRange{Max: 1_500_000}},
		{"có cáp dưới 100k không", &PriceRange{Max: 100_000}},
	} {
		t.Run(tc.text, func(t *testing.T) {
			got := findPriceRange(crm.Fold(tc.text))
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Fatalf("findPriceRange(%q) = %+v, want %+v", tc.text, got, tc.want)
			}
		})
	}
}

func TestProductsInRange(t *testing.T) {
	cat := &crm.Catalog{Products: []*crm.Product{
		{ID: "a", Price: 4_890_000, Category: "phone"},
		{ID: "b", Price: 9_490_000, Category: "phone"},
		{ID: "c", Price: 19_990_000, Category: "phone"},
		{ID: "d", Price: 690_000, Category: "accessory"},
		{ID: "e", Price: 5_990_000, Category: "accessory"},
	}}
	ids := func(ps []*crm.Product) (s string) {
		for _, p := range ps {
			s += p.ID
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		r        PriceRange
		category string
		named    []string
		want     string
		in       bool
	}{
		{"under, whole catalog: the dearest first", PriceRange{Max: 6_000_000}, "", nil, "ead", true},
		{"under, one category", PriceRange{Max: 6_000_000}, "phone", nil, "a", true},
		{"over", PriceRange{Min: 9_000_000}, "phone", nil, "bc", true},
		{"around: the nearest first", PriceRange{Min: 3_500_000, Max: 6_500_000, Around: 5_000_000}, "", nil, "ae", true},
		{"between", PriceRange{Min: 4_000_000, Max: 10_000_000}, "phone", nil, "ab", true},
		{"a named product out of range: itself, not another of its category", PriceRange{Max: 1_000_000}, "", []string{"e"}, "e", false},
		{"a named product in range", PriceRange{Max: 7_000_000}, "", []string{"e"}, "e", true},
		{"none in the category: the nearest above", PriceRange{Max: 1_000_000}, "phone", nil, "a", false},
		{"none around: the nearest below and above", PriceRange{Min: 10_500_000, Max: 19_500_000, Around: 15_000_000}, "phone", nil, "bc", false},
		{"none over: the nearest below", PriceRange{Min: 30_000_000}, "", nil, "c", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var named []*crm.Product
			for _, id := range tc.named {
				for _, p := range cat.Products {
					if p.ID == id {
						named = append(named, p)
					}
				}
			}
			got, in := ProductsInRange(cat, &tc.r, tc.category, named)
			if ids(got) != tc.want || in != tc.in {
				t.Fatalf("ProductsInRange = %s, %v; want %s, %v", ids(got), in, tc.want, tc.in)
			}
		})
	}
}

func TestCategoryNamesFromTheCatalog(t *testing.T) {
	cat, err := crm.ParseCatalog("catalog.yaml", []byte("shop: S\nproducts:\n"+
		"  - {id: ao, name: Áo thun, price: 150000, category: fashion}\n"+
		"  - {id: op, name: Ốp lưng, price: 90000, category: case}\n"+
		"categories:\n  fashion: {vi: \"thời trang\", en: clothes}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, category, want string }{
		{"vi", "fashion", "thời trang"}, // the catalog's name
		{"en", "fashion", "clothes"},
		{"vi", "phone", "điện thoại"}, // the default
		{"vi", "case", "case"},        // neither: the id
	} {
		if got := categoryName(cat, tc.lang, tc.category); got != tc.want {
			t.Errorf("categoryName(%s, %s) = %q, want %q", tc.lang, tc.category, got, tc.want)
		}
	}
	for text, want := range map[string]string{
		"đồ thời trang dưới 200k": "fashion",
		"any clothes under 200k?": "fashion",
		"thoi trang":              "fashion",
		"ốp lưng":                 "", // a product keyword, not a category name
	} {
		padded := " " + strings.Join(crm.Words(crm.Fold(text)), " ") + " "
		if got := categoryOf(cat, padded); got != want {
			t.Errorf("categoryOf(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestFindPriceRange_Amounts: amounts are read by crm.ParseAmount's rules,
// the same as a rep's or an importer's.
func TestFindPriceRange_Amounts(t *testing.T) {
	for _, tc := range []struct {
		text string
		want *PriceRange
	}{
		{"dưới 1.500k", &PriceRange{Max: 1_500_000}}, // thousands, as everywhere
		{"under 1.5 billion", &PriceRange{Max: 1_500_000_000}},
		{"dưới 2 tỷ", &PriceRange{Max: 2_000_000_000}},
		{"từ 5 đến 9tr5", &PriceRange{Min: 5_000_000, Max: 9_500_000}}, // 5 borrows "tr", not "tr5"
		{"tầm 1tr5đ", &PriceRange{Min: 1_050_000, Max: 1_950_000, Around: 1_500_000}},
		{"dưới 1.500.000k", nil},
		{"3ng đi, 2b nữa", nil},
	} {
		t.Run(tc.text, func(t *testing.T) {
			got := findPriceRange(crm.Fold(tc.text))
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Fatalf("findPriceRange(%q) = %+v, want %+v", tc.text, got, tc.want)
			}
		})
	}
}
