package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// PNG returns the chart as a PNG image, for Slack.
func PNG(ch Chart) ([]byte, error) {
	w, h := ch.size()
	p := &pngCanvas{img: image.NewRGBA(image.Rect(0, 0, int(math.Ceil(w)), int(math.Ceil(h))))}
	ch.draw(p)
	var b bytes.Buffer
	if err := png.Encode(&b, p.img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type pngCanvas struct{ img *image.RGBA }

func (p *pngCanvas) rect(x, y, w, h float64, fill color.RGBA) {
	r := image.Rect(int(math.Round(x)), int(math.Round(y)), int(math.Round(x+w)), int(math.Round(y+h)))
	draw.Draw(p.img, r, image.NewUniform(fill), image.Point{}, draw.Src)
}

func (p *pngCanvas) line(x1, y1, x2, y2 float64, stroke color.RGBA, width float64) {
	steps := int(math.Max(math.Abs(x2-x1), math.Abs(y2-y1))) + 1
	half := math.Max(0.5, width/2)
	for i := 0; i <= steps; i++ {
		t := float64(i) / float64(steps)
		x, y := x1+(x2-x1)*t, y1+(y2-y1)*t
		p.rect(x-half, y-half, 2*half, 2*half, stroke)
	}
}

func (p *pngCanvas) text(x, y float64, s string, a anchor, fill color.RGBA) {
	s = fold(s)
	face := basicfont.Face7x13
	w := float64(font.MeasureString(face, s).Round())
	switch a {
	case middle:
		x -= w / 2
	case end:
		x -= w
	}
	d := &font.Drawer{Dst: p.img, Src: image.NewUniform(fill), Face: face,
		Dot: fixed.P(int(math.Round(x)), int(math.Round(y)))}
	d.DrawString(s)
}

// fold strips diacritics for the bitmap font: "Khách mới" → "Khach moi".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteByte('d')
		case r == 'Đ':
			b.WriteByte('D')
		case r == '–' || r == '—':
			b.WriteByte('-')
		case r == '…':
			b.WriteString("...")
		case r > unicode.MaxASCII:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
