package chart

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
)

// SVG returns the chart as an SVG element to place inline in a page or
// serve as image/svg+xml. It has a title for screen readers and no style
// attribute, so it needs nothing from a content security policy.
func SVG(ch Chart) []byte {
	w, h := ch.size()
	s := &svgCanvas{}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s" class="chart">`,
		w, h, w, h, html.EscapeString(ch.title()))
	fmt.Fprintf(&s.b, `<title>%s</title>`, html.EscapeString(ch.title()))
	ch.draw(s)
	s.b.WriteString(`</svg>`)
	return s.b.Bytes()
}

type svgCanvas struct{ b bytes.Buffer }

func (s *svgCanvas) rect(x, y, w, h float64, fill color.RGBA) {
	if w <= 0 || h <= 0 {
		return
	}
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y, w, h, hex(fill))
}

func (s *svgCanvas) line(x1, y1, x2, y2 float64, stroke color.RGBA, width float64) {
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%g"/>`, x1, y1, x2, y2, hex(stroke), width)
}

func (s *svgCanvas) text(x, y float64, t string, a anchor, fill color.RGBA) {
	anchors := [...]string{"start", "middle", "end"}
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-family="sans-serif" font-size="12" fill="%s">%s</text>`,
		x, y, anchors[a], hex(fill), html.EscapeString(t))
}
