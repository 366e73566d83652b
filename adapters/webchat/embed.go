package webchat

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// The widget: a shop pastes one script tag on its site,
//
//	<script src="https://chat.shop.vn/webchat/widget.js" defer></script>
//
// and the script shows a launcher bubble that opens the chat page in an
// iframe (/webchat/embed). An iframe rather than a shadow DOM on the shop's
// page, because the conversation (phones, addresses) then lives in the
// chat's own origin: the shop's other scripts (analytics, ads, plugins)
// cannot read it or restyle it, the page keeps its strict CSP, and the
// standalone page and the widget are one code path. The embed page may be
// framed only by the origins the shop lists (frame-ancestors), and the API
// answers cross-origin browsers only from those origins.

// DefaultColor is the chat's brand colour when none is configured.
const DefaultColor = "#0f766e"

// Branding is how the chat presents the shop. The zero value shows a
// generic title, a chat icon and DefaultColor.
type Branding struct {
	// Shop is the shop's name, in the header and the launcher's label.
	Shop string
	// LogoURL is an https URL or a path on this server ("/logo.png") of a
	// square image shown in the header; the chat icon when empty.
	LogoURL string
	// Color is the brand colour, #rrggbb. Text on it is white or black,
	// whichever reads better, and where the colour is text itself it is
	// darkened (or lightened, in dark mode) until it meets WCAG AA.
	Color string
}

// Validate reports a logo or colour the page could not use.
func (b Branding) Validate() error {
	if len([]rune(b.Shop)) > 80 {
		return crm.Errorf(crm.EINVALID, "shop name is over 80 characters")
	}
	if err := checkText("shop name", b.Shop); err != nil {
		return err
	}
	if b.Color != "" {
		if _, err := parseColor(b.Color); err != nil {
			return err
		}
	}
	if b.LogoURL != "" {
		if _, err := logoSource(b.LogoURL); err != nil {
			return err
		}
	}
	return nil
}

// logoSource checks a logo URL and returns what img-src must allow for it:
// "" for a path on this server ('self' covers it), else its origin.
func logoSource(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || strings.ContainsAny(v, " \"'<>\\") {
		return "", crm.Errorf(crm.EINVALID, "logo %q is not a URL", v)
	}
	switch {
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(v, "//"):
		return "", nil
	case u.Scheme == "https" && u.Host != "" && u.User == nil:
		return "https://" + u.Host, nil
	}
	return "", crm.Errorf(crm.EINVALID, "logo %q must be an https URL or a path on this server", v)
}

// ParseOrigins checks the origins allowed to embed the chat and call its
// API from their pages, and returns them in the form browsers send in the
// Origin header: scheme://host[:port], lower case, no path.
func ParseOrigins(list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, v := range list {
		u, err := url.Parse(strings.TrimSpace(v))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "*") {
			return nil, crm.Errorf(crm.EINVALID, "allowed origin %q must be scheme://host[:port], like https://shop.example", v)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// rgb is a colour with channels 0–255.
type rgb [3]float64

func parseColor(v string) (rgb, error) {
	if len(v) != 7 || v[0] != '#' {
		return rgb{}, crm.Errorf(crm.EINVALID, "colour %q must be #rrggbb", v)
	}
	var c rgb
	for i := range c {
		n, err := strconv.ParseUint(v[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return rgb{}, crm.Errorf(crm.EINVALID, "colour %q must be #rrggbb", v)
		}
		c[i] = float64(n)
	}
	return c, nil
}

func (c rgb) String() string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c[0])), int(math.Round(c[1])), int(math.Round(c[2])))
}

// luminance is the WCAG relative luminance.
func (c rgb) luminance() float64 {
	var l [3]float64
	for i, v := range c {
		s := v / 255
		if s <= 0.04045 {
			l[i] = s / 12.92
		} else {
			l[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// contrast is the WCAG contrast ratio of two colours (1 to 21).
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// mix moves c toward target by t (0: c, 1: target).
func mix(c, target rgb, t float64) rgb {
	var out rgb
	for i := range c {
		out[i] = c[i] + (target[i]-c[i])*t
	}
	return out
}

// aaText is the AA contrast for normal text, with a margin for rounding.
const aaText = 4.6

var (
	white = rgb{255, 255, 255}
	black = rgb{0, 0, 0}
)

// readableOn returns c, or c mixed toward toward just enough to reach AA
// on bg.
func readableOn(c, bg, toward rgb) rgb {
	for t := 0.0; t <= 1; t += 0.02 {
		if m := mix(c, toward, t); contrast(m, bg) >= aaText {
			return m
		}
	}
	return toward
}

// palette is the CSS of the brand colour and the colours derived from it.
type palette struct {
	Brand    string // backgrounds: header, the customer's bubbles, send
	OnBrand  string // text on Brand
	Ink      string // brand-coloured text on the light panel
	InkDark  string // brand-coloured text on the dark panel
	Launcher string // the widget's bubble (Brand)
}

// Panels the ink must read on: the light and dark panel and page
// backgrounds of page.html (the darker of each pair decides).
var (
	lightPanel = rgb{0xf1, 0xf5, 0xf4}
	darkPanel  = rgb{0x1b, 0x2a, 0x28}
)

func newPalette(color string) palette {
	if color == "" {
		color = DefaultColor
	}
	c, err := parseColor(color)
	if err != nil { // validated before; keep the default rather than fail
		c, _ = parseColor(DefaultColor)
	}
	on := white
	if contrast(black, c) > contrast(white, c) {
		on = black
	}
	return palette{
		Brand:    c.String(),
		OnBrand:  on.String(),
		Ink:      readableOn(c, lightPanel, black).String(),
		InkDark:  readableOn(c, darkPanel, white).String(),
		Launcher: c.String(),
	}
}

// renderPage fills page.html's placeholders with the branding. Values are
// validated (colours) or escaped (name, logo) here, before the CSP hashes
// of the inline script and style are taken.
func renderPage(tmpl []byte, b Branding, embedded bool) []byte {
	p := newPalette(b.Color)
	logo := `<span class="avatar" aria-hidden="true">💬</span>`
	if b.LogoURL != "" {
		logo = `<img class="avatar" src="` + html.EscapeString(b.LogoURL) + `" alt="" width="40" height="40">`
	}
	bodyClass := ""
	if embedded {
		bodyClass = "embedded"
	}
	r := strings.NewReplacer(
		"#0f766e;/*brand*/", p.Brand+";",
		"#ffffff;/*on-brand*/", p.OnBrand+";",
		"#0f766e;/*ink*/", p.Ink+";",
		"#2dd4bf;/*ink-dark*/", p.InkDark+";",
		`content="#0f766e"`, `content="`+p.Brand+`"`,
		"<!--logo-->", logo,
		`data-shop=""`, `data-shop="`+html.EscapeString(strings.TrimSpace(b.Shop))+`"`,
		`class="page"`, `class="page `+bodyClass+`"`,
	)
	return []byte(r.Replace(string(tmpl)))
}

//go:embed widget.js
var widgetJS []byte

// renderWidget puts the branding the launcher needs into widget.js.
func renderWidget(b Branding) []byte {
	p := newPalette(b.Color)
	cfg, _ := json.Marshal(map[string]string{
		"shop": strings.TrimSpace(b.Shop), "color": p.Launcher, "on": p.OnBrand,
	})
	return bytes.Replace(widgetJS, []byte("/*config*/{}"), cfg, 1)
}

// framePolicy is the frame-ancestors source list of the embed page.
func framePolicy(origins []string) string {
	if len(origins) == 0 {
		return "'self'"
	}
	return "'self' " + strings.Join(origins, " ")
}

func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	s.writePage(w, s.embedPage, s.embedCSP)
}

func (s *Server) handleWidget(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	// Any site may load the script; only allowed ones may frame the chat.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.widget)
}

// checkOrigin refuses a browser request made by a page of another origin
// than this server's or an allowed one. Requests without Origin and
// Sec-Fetch-Site (not a browser, or a same-origin GET of an older one)
// pass: the session id is what guards a conversation. It returns the
// origin to answer with CORS headers, "" for none.
func (s *Server) checkOrigin(r *http.Request) (string, error) {
	site := r.Header.Get("Sec-Fetch-Site")
	origin := r.Header.Get("Origin")
	if site == "same-origin" {
		return "", nil
	}
	if origin == "" || origin == "null" {
		if site == "" || site == "none" {
			return "", nil
		}
		return "", crm.Errorf(crm.EFORBIDDEN, "This page may not use the chat.")
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) && site != "cross-site" {
		return "", nil
	}
	lower := strings.ToLower(origin)
	for _, o := range s.origins {
		if o == lower {
			return origin, nil
		}
	}
	return "", crm.Errorf(crm.EFORBIDDEN, "This site (%s) may not use the chat: add it to webchat.allowed_origins.", origin)
}

// allowCORS lets an allowed origin's page read the answer.
func allowCORS(w http.ResponseWriter, origin string) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", "Retry-After")
}

// handlePreflight answers a CORS preflight of an allowed origin.
func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request) {
	origin, err := s.checkOrigin(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	allowCORS(w, origin)
	if origin != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Last-Event-ID")
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// storedPhone finds a phone number as the core stores it (E.164) in a
// message to the customer.
var storedPhone = regexp.MustCompile(`\+\d{8,15}\b`)

// displayText writes what the core sent the way a customer reads it: a
// phone number in its national format ("0912 888 999", not
// "+84912888999") and an amount never split from its "₫" at a line end.
// What the customer typed is shown as typed.
func displayText(s string) string {
	if strings.Contains(s, "+") {
		s = storedPhone.ReplaceAllStringFunc(s, crm.DisplayPhone)
	}
	return crm.KeepMoneyTogether(s)
}
