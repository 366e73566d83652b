package crm

import "time"

// OfferAnswerWindow is how long after an offer was last shown to a customer
// its buttons still count.
const OfferAnswerWindow = 30 * 24 * time.Hour

// Answerable reports whether c may answer offer o at now (accept it, ask for
// more, decline it): it was shown to c within OfferAnswerWindow, c has not
// opted out, and o is still one c may be shown (live, in its validity
// window, in c's segments and rule). The frequency cap does not apply: it
// bounds showing, not answering.
func (s *OfferSet) Answerable(o *CompiledOffer, c *Customer, now time.Time) bool {
	if o == nil || c.Consent.OptedOut {
		return false
	}
	st := c.Offers[o.ID]
	if st == nil || st.Shown == 0 || st.LastShown.IsZero() || now.Sub(st.LastShown) > OfferAnswerWindow {
		return false
	}
	return o.Eligible(c, FactsOf(c, now), now)
}
