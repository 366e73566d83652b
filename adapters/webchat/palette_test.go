package webchat

import (
	"fmt"
	"testing"
)

// TestPaletteContrast: whatever colour a shop picks, text on it and text
// in it meet WCAG AA (4.5:1) on the page's light and dark panels.
func TestPaletteContrast(t *testing.T) {
	for r := 0; r <= 255; r += 51 {
		for g := 0; g <= 255; g += 51 {
			for b := 0; b <= 255; b += 51 {
				color := fmt.Sprintf("#%02x%02x%02x", r, g, b)
				p := newPalette(color)
				c := func(s string) rgb {
					v, err := parseColor(s)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				if got := contrast(c(p.OnBrand), c(p.Brand)); got < 4.5 {
					t.Errorf("%s: text on the brand colour %.2f:1", color, got)
				}
				for _, bg := range []rgb{lightPanel, white} {
					if got := contrast(c(p.Ink), bg); got < 4.5 {
						t.Errorf("%s: ink %s on %s %.2f:1", color, p.Ink, bg, got)
					}
				}
				for _, bg := range []rgb{darkPanel, {0x11, 0x1c, 0x1b}} {
					if got := contrast(c(p.InkDark), bg); got < 4.5 {
						t.Errorf("%s: dark ink %s on %s %.2f:1", color, p.InkDark, bg, got)
					}
				}
			}
		}
	}
	if got := newPalette("").Brand; got != DefaultColor {
		t.Errorf("default brand = %s", got)
	}
}
