package chart

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"math"
	"strings"
	"testing"
)

func charts() map[string]Chart {
	return map[string]Chart{
		"line": &Line{Title: "Doanh thu theo ngày", Labels: []string{"01-12", "02-12", "03-12"},
			Series: []Series{{Name: "Doanh thu", Values: []float64{1e6, 3e6, 2e6}}}},
		"bars": &Bars{Title: "Phễu ưu đãi", Labels: []string{"tet", "<b>x</b>"},
			Series: []Series{{Name: "Đã xem", Values: []float64{10, 4}}, {Name: "Đặt hàng", Values: []float64{2, 1}}}},
		"heat": &Heat{Title: "Giữ chân", Rows: []string{"2026-11", "2026-12"}, Cols: []string{"+0", "+1"},
			Share: [][]float64{{1, 0.5}, {1, math.NaN()}}, Text: [][]string{{"100%", "50%"}, {"100%", ""}}},
	}
}

// TestSVGIsWellFormedWithoutStyle parses each SVG as XML and checks that it
// uses no style attribute or element (the admin CSP would drop them) and
// escapes labels.
func TestSVGIsWellFormedWithoutStyle(t *testing.T) {
	for name, ch := range charts() {
		svg := SVG(ch)
		d := xml.NewDecoder(bytes.NewReader(svg))
		var marks, texts int
		for {
			tok, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: not well-formed XML: %v\n%s", name, err, svg)
				}
				break
			}
			if se, ok := tok.(xml.StartElement); ok {
				switch se.Name.Local {
				case "style", "script":
					t.Errorf("%s: has a <%s> element", name, se.Name.Local)
				case "rect", "line":
					marks++
				case "text":
					texts++
				}
				for _, a := range se.Attr {
					if a.Name.Local == "style" {
						t.Errorf("%s: has a style attribute", name)
					}
				}
			}
		}
		if marks < 3 || texts < 2 {
			t.Errorf("%s: %d shapes and %d texts, want a drawn chart", name, marks, texts)
		}
	}
	if svg := string(SVG(charts()["bars"])); strings.Contains(svg, "<b>") {
		t.Errorf("a label's markup is not escaped: %s", svg)
	}
}

func TestPNGDecodes(t *testing.T) {
	for name, ch := range charts() {
		b, err := PNG(ch)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w, h := ch.size()
		if got := img.Bounds().Size(); got.X != int(w) || got.Y != int(math.Ceil(h)) {
			t.Errorf("%s: %v, want %gx%g", name, got, w, h)
		}
		// The first series' colour is drawn somewhere.
		found := false
		for y := 0; y < img.Bounds().Dy() && !found; y++ {
			for x := 0; x < img.Bounds().Dx(); x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				if c := colorOf(0); r>>8 == uint32(c.R) && g>>8 == uint32(c.G) && b>>8 == uint32(c.B) {
					found = true
					break
				}
			}
		}
		if !found && name != "heat" {
			t.Errorf("%s: the series colour is drawn nowhere", name)
		}
	}
}

func TestFold(t *testing.T) {
	if got, want := fold("Khách mới – Đà Nẵng…"), "Khach moi - Da Nang..."; got != want {
		t.Errorf("fold = %q, want %q", got, want)
	}
}
