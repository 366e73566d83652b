// Package chart draws the reports' charts — lines for trends, grouped bars
// for funnels, a heat-map table for cohorts — as SVG for the admin
// dashboard and as PNG for Slack, from one drawing of each chart.
//
// SVG is written by hand with presentation attributes only (no style
// attribute, no script), so it renders inline under the admin page's
// content security policy (style-src 'self'). PNG is drawn with the
// standard image packages; its labels use a fixed 7×13 bitmap font
// without Vietnamese diacritics (folded: "Khách mới" → "Khach moi"), so a
// Slack message carries the full text beside the image.
package chart

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"
)

// Series is one named line or bar colour.
type Series struct {
	Name   string
	Values []float64
}

// Chart is something Render and RenderPNG can draw.
type Chart interface {
	size() (w, h float64)
	title() string
	draw(c canvas)
}

// canvas is what a chart draws on: SVG text or a PNG image.
type canvas interface {
	rect(x, y, w, h float64, fill color.RGBA)
	line(x1, y1, x2, y2 float64, stroke color.RGBA, width float64)
	text(x, y float64, s string, anchor anchor, fill color.RGBA)
}

type anchor int

const (
	start anchor = iota
	middle
	end
)

var (
	ink     = color.RGBA{0x33, 0x33, 0x33, 0xff}
	grid    = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	paper   = color.RGBA{0xff, 0xff, 0xff, 0xff}
	palette = []color.RGBA{
		{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
		{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	}
)

func colorOf(i int) color.RGBA { return palette[i%len(palette)] }

// Line is a trend: one value per label for each series.
type Line struct {
	Title  string
	Labels []string
	Series []Series
}

// Bars are grouped bars: for each label, one bar per series.
type Bars struct {
	Title  string
	Labels []string
	Series []Series
}

// Heat is a table whose cells are shaded by a share from 0 to 1 (NaN: no
// cell), each with its text.
type Heat struct {
	Title string
	Rows  []string
	Cols  []string
	Share [][]float64
	Text  [][]string
}

const (
	width       = 720.0
	plotHeight  = 240.0
	left, right = 64.0, 16.0
	top         = 36.0
	bottom      = 56.0
)

func (l *Line) size() (float64, float64) { return width, plotHeight + top + bottom }
func (l *Line) title() string            { return l.Title }
func (b *Bars) size() (float64, float64) { return width, plotHeight + top + bottom }
func (b *Bars) title() string            { return b.Title }
func (h *Heat) title() string            { return h.Title }

func (h *Heat) size() (float64, float64) {
	return width, top + 24 + float64(len(h.Rows))*22 + 8
}

// maxOf returns the largest value of the series, at least 1.
func maxOf(series []Series) float64 {
	m := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			m = math.Max(m, v)
		}
	}
	if m <= 0 {
		return 1
	}
	return niceCeil(m)
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// Short writes v compactly: 1.200, 3,5 tr (triệu), 2,1 tỷ.
func Short(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return strings.Replace(strconv.FormatFloat(v/1e9, 'f', 1, 64), ".", ",", 1) + " tỷ"
	case a >= 1e6:
		return strings.Replace(strconv.FormatFloat(v/1e6, 'f', 1, 64), ".", ",", 1) + " tr"
	case a >= 1e4:
		return strconv.FormatFloat(math.Round(v/1e3), 'f', 0, 64) + "k"
	}
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// axes draws the title, the horizontal grid with its values and the
// legend, and returns the plot's scale.
func axes(c canvas, title string, series []Series) (plotW, y0, scale float64) {
	c.rect(0, 0, width, plotHeight+top+bottom, paper)
	c.text(left, 20, title, start, ink)
	maxV := maxOf(series)
	y0 = top + plotHeight
	for i := 0; i <= 4; i++ {
		y := y0 - plotHeight*float64(i)/4
		c.line(left, y, width-right, y, grid, 1)
		c.text(left-6, y+4, Short(maxV*float64(i)/4), end, ink)
	}
	x := left
	for i, s := range series {
		if len(series) == 1 {
			break
		}
		c.rect(x, y0+38, 10, 10, colorOf(i))
		c.text(x+14, y0+47, s.Name, start, ink)
		x += 24 + 7*float64(len([]rune(s.Name)))
	}
	return width - left - right, y0, plotHeight / maxV
}

// labelEvery spaces axis labels so that about 8 show.
func labelEvery(n int) int { return max(1, (n+7)/8) }

func (l *Line) draw(c canvas) {
	plotW, y0, scale := axes(c, l.Title, l.Series)
	n := len(l.Labels)
	if n == 0 {
		return
	}
	step := plotW / math.Max(1, float64(n-1))
	for i := 0; i < n; i += labelEvery(n) {
		c.text(left+step*float64(i), y0+16, l.Labels[i], middle, ink)
	}
	for si, s := range l.Series {
		for i := 1; i < len(s.Values) && i < n; i++ {
			c.line(left+step*float64(i-1), y0-s.Values[i-1]*scale, left+step*float64(i), y0-s.Values[i]*scale, colorOf(si), 2)
		}
		if n == 1 && len(s.Values) == 1 {
			c.rect(left-2, y0-s.Values[0]*scale-2, 4, 4, colorOf(si))
		}
	}
}

func (b *Bars) draw(c canvas) {
	plotW, y0, scale := axes(c, b.Title, b.Series)
	n := len(b.Labels)
	if n == 0 {
		return
	}
	group := plotW / float64(n)
	barW := group * 0.8 / float64(max(1, len(b.Series)))
	for i, label := range b.Labels {
		x := left + group*float64(i) + group*0.1
		for si, s := range b.Series {
			if i < len(s.Values) {
				h := s.Values[i] * scale
				c.rect(x+barW*float64(si), y0-h, barW-1, h, colorOf(si))
			}
		}
		c.text(left+group*(float64(i)+0.5), y0+16, clip(label, int(group/7)), middle, ink)
	}
}

func clip(s string, n int) string {
	r := []rune(s)
	if n < 2 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (h *Heat) draw(c canvas) {
	w, ht := h.size()
	c.rect(0, 0, w, ht, paper)
	c.text(left, 20, h.Title, start, ink)
	colW := (width - left - 40 - right) / float64(max(1, len(h.Cols)))
	for j, col := range h.Cols {
		c.text(left+40+colW*(float64(j)+0.5), top+14, col, middle, ink)
	}
	for i, row := range h.Rows {
		y := top + 24 + float64(i)*22
		c.text(left+30, y+15, row, end, ink)
		for j := range h.Cols {
			if j >= len(h.Share[i]) || math.IsNaN(h.Share[i][j]) {
				continue
			}
			s := math.Max(0, math.Min(1, h.Share[i][j]))
			fill := color.RGBA{uint8(255 - 225*s), uint8(255 - 136*s), uint8(255 - 75*s), 0xff}
			c.rect(left+40+colW*float64(j), y, colW-2, 20, fill)
			txt := ink
			if s > 0.6 {
				txt = paper
			}
			c.text(left+40+colW*(float64(j)+0.5), y+14, h.Text[i][j], middle, txt)
		}
	}
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
