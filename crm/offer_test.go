package crm_test

import (
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

func TestValidityWindows(t *testing.T) {
	bday := date(1990, time.February, 14)
	cust := &crm.Customer{Birthday: &bday}
	from, until := date(2026, 3, 1), date(2026, 3, 31)
	tests := []struct {
		name string
		v    crm.Validity
		at   time.Time
		c    *crm.Customer
		want bool
	}{
		{"no window", crm.Validity{}, date(2026, 1, 1), cust, true},
		{"before from", crm.Validity{From: &from}, date(2026, 2, 28), cust, false},
		{"after until", crm.Validity{Until: &until}, date(2026, 4, 1), cust, false},
		{"inside range", crm.Validity{From: &from, Until: &until}, date(2026, 3, 15), cust, true},
		{"last 3 days of November: 27th is out", crm.Validity{LastDaysOfMonth: 3}, date(2026, 11, 27), cust, false},
		{"last 3 days of November: 28th is in", crm.Validity{LastDaysOfMonth: 3}, date(2026, 11, 28), cust, true},
		{"last 3 days of November: 30th is in", crm.Validity{LastDaysOfMonth: 3}, date(2026, 11, 30), cust, true},
		{"last 3 days of February (28 days)", crm.Validity{LastDaysOfMonth: 3}, date(2026, 2, 26), cust, true},
		{"last 3 days of February: 25th is out", crm.Validity{LastDaysOfMonth: 3}, date(2026, 2, 25), cust, false},
		{"leap February 29th", crm.Validity{LastDaysOfMonth: 1}, date(2028, 2, 29), cust, true},
		{"31-day month: 29th in, 28th out", crm.Validity{LastDaysOfMonth: 3}, date(2026, 12, 28), cust, false},
		{"birthday month", crm.Validity{BirthdayMonth: true}, date(2026, 2, 1), cust, true},
		{"not birthday month", crm.Validity{BirthdayMonth: true}, date(2026, 3, 1), cust, false},
		{"birthday unknown", crm.Validity{BirthdayMonth: true}, date(2026, 2, 1), &crm.Customer{}, false},
		{"birthday month and last days", crm.Validity{BirthdayMonth: true, LastDaysOfMonth: 2}, date(2026, 2, 27), cust, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.ValidAt(tt.at, tt.c); got != tt.want {
				t.Fatalf("ValidAt(%s) = %v, want %v", tt.at.Format("2006-01-02"), got, tt.want)
			}
		})
	}
}

func offer(id string, prio int, segs ...string) *crm.Offer {
	return &crm.Offer{ID: id, Name: id, Status: crm.OfferActive, Segments: segs, Priority: prio,
		Templates: map[string]string{"vi": "Ưu đãi " + id + " cho {{.FirstName}}", "en": "Offer " + id}}
}

func TestOfferSelection(t *testing.T) {
	now := date(2026, 11, 10)
	newCust := func() *crm.Customer {
		return &crm.Customer{ID: 1, Segment: crm.SegmentAssignment{Name: "new"}}
	}
	tests := []struct {
		name   string
		offers []*crm.Offer
		cust   func() *crm.Customer
		ignore bool
		want   string
	}{
		{"priority wins", []*crm.Offer{offer("low", 1, "new"), offer("high", 9, "new")}, newCust, false, "high"},
		{"same priority: id order", []*crm.Offer{offer("b", 1), offer("a", 1)}, newCust, false, "a"},
		{"other segment skipped", []*crm.Offer{offer("vip", 9, "vip"), offer("all", 1)}, newCust, false, "all"},
		{"paused skipped", func() []*crm.Offer {
			o := offer("p", 9)
			o.Status = crm.OfferPaused
			return []*crm.Offer{o, offer("a", 1)}
		}(), newCust, false, "a"},
		{"draft skipped", func() []*crm.Offer { o := offer("d", 9); o.Status = crm.OfferDraft; return []*crm.Offer{o} }(), newCust, false, ""},
		{"opted out gets none", []*crm.Offer{offer("a", 1)}, func() *crm.Customer { c := newCust(); c.Consent.OptedOut = true; return c }, true, ""},
		{"eligibility expression", func() []*crm.Offer {
			o := offer("rich", 9)
			o.Eligibility = "total_spent > 1000000"
			return []*crm.Offer{o, offer("a", 1)}
		}(), newCust, false, "a"},
		{"cap days: shown 3 days ago with cap 7", func() []*crm.Offer { o := offer("c", 9); o.CapDays = 7; return []*crm.Offer{o, offer("a", 1)} }(),
			func() *crm.Customer {
				c := newCust()
				c.Offers = map[string]*crm.OfferStat{"c": {Shown: 1, LastShown: now.AddDate(0, 0, -3)}}
				return c
			}, false, "a"},
		{"cap days: shown 8 days ago with cap 7", func() []*crm.Offer { o := offer("c", 9); o.CapDays = 7; return []*crm.Offer{o, offer("a", 1)} }(),
			func() *crm.Customer {
				c := newCust()
				c.Offers = map[string]*crm.OfferStat{"c": {Shown: 1, LastShown: now.AddDate(0, 0, -8)}}
				return c
			}, false, "c"},
		{"cap ignored when the customer asks", func() []*crm.Offer { o := offer("c", 9); o.CapDays = 7; return []*crm.Offer{o} }(),
			func() *crm.Customer {
				c := newCust()
				c.Offers = map[string]*crm.OfferStat{"c": {Shown: 1, LastShown: now}}
				return c
			}, true, "c"},
		{"max shows reached", func() []*crm.Offer { o := offer("m", 9); o.MaxShows = 2; return []*crm.Offer{o} }(),
			func() *crm.Customer {
				c := newCust()
				c.Offers = map[string]*crm.OfferStat{"m": {Shown: 2, LastShown: now.AddDate(-1, 0, 0)}}
				return c
			}, false, ""},
		{"end-of-month offer out of window", func() []*crm.Offer {
			o := offer("payday", 9)
			o.Validity.LastDaysOfMonth = 3
			return []*crm.Offer{o, offer("a", 1)}
		}(), newCust, false, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, errs := crm.NewOfferSet(tt.offers)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			got := ""
			if o := set.Select(tt.cust(), now, tt.ignore); o != nil {
				got = o.ID
			}
			if got != tt.want {
				t.Fatalf("selected %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOfferValidation(t *testing.T) {
	segs := []string{"new", "vip"}
	mk := func(f func(o *crm.Offer)) *crm.Offer { o := offer("x", 1, "new"); f(o); return o }
	from, until := date(2026, 5, 1), date(2026, 4, 1)
	tests := []struct {
		name string
		o    *crm.Offer
		want string // part of the message; "" = valid
	}{
		{"valid", mk(func(o *crm.Offer) {}), ""},
		{"template does not parse", mk(func(o *crm.Offer) { o.Templates["vi"] = "Chào\n{{.FirstName" }), "templates.vi line 2: unclosed action"},
		{"unknown field", mk(func(o *crm.Offer) { o.Templates["en"] = "Hi {{.Nickname}}" }), "Nickname"},
		{"bad eligibility", mk(func(o *crm.Offer) { o.Eligibility = "total_spent >" }), "eligibility"},
		{"until before from", mk(func(o *crm.Offer) { o.Validity.From, o.Validity.Until = &from, &until }), "validity.until: must be after validity.from"},
		{"negative cap", mk(func(o *crm.Offer) { o.CapDays = -1 }), "must not be negative"},
		{"unknown segment", mk(func(o *crm.Offer) { o.Segments = []string{"gold"} }), `segment "gold" does not exist`},
		{"bad status", mk(func(o *crm.Offer) { o.Status = "live" }), "status"},
		{"no template", mk(func(o *crm.Offer) { o.Templates = nil }), "at least one language"},
		{"bad id", mk(func(o *crm.Offer) { o.ID = "Tết sale" }), "id: may hold only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := crm.ValidateOffer(tt.o, segs, date(2026, 11, 10))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || crm.ErrorCode(err) != crm.EINVALID || !contains(crm.ErrorMessage(err), tt.want) {
				t.Fatalf("error = %v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestVND(t *testing.T) {
	for in, want := range map[int64]string{0: "0 ₫", 500: "500 ₫", 1000: "1.000 ₫", 1500000: "1.500.000 ₫", 19990000: "19.990.000 ₫", -25000: "-25.000 ₫"} {
		if got := crm.VND(in); got != want {
			t.Errorf("VND(%d) = %q, want %q", in, got, want)
		}
	}
}
