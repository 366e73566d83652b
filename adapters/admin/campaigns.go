package admin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Campaigns creates, previews, tries, steers and measures campaigns (and
// shows the journeys' occurrences). *bot.Outreach implements it.
type Campaigns interface {
	CreateCampaign(ctx context.Context, c *crm.Campaign, who string) (*crm.Campaign, error)
	ListCampaigns(ctx context.Context) ([]*bot.CampaignProgress, error)
	Progress(ctx context.Context, id string) (*bot.CampaignProgress, error)
	Preview(ctx context.Context, c *crm.Campaign) (*bot.CampaignPreview, error)
	TestSend(ctx context.Context, c *crm.Campaign, customer crm.ID) (*crm.OutboxItem, error)
	PauseCampaign(ctx context.Context, id string) (*crm.Campaign, error)
	ResumeCampaign(ctx context.Context, id string) (*crm.Campaign, error)
	CancelCampaign(ctx context.Context, id string) (*crm.Campaign, error)
	Stats(ctx context.Context, id string) (*bot.CampaignStats, error)
	Journeys() []bot.Journey
}

var _ Campaigns = (*bot.Outreach)(nil)

// zoned is what a Campaigns may also tell: the shop's time zone and quiet
// hours (*bot.Outreach does). Without it the page uses Asia/Ho_Chi_Minh.
type zoned interface {
	Location() *time.Location
	QuietHours() (from, until int)
}

var _ zoned = (*bot.Outreach)(nil)

// journeyEditor is what a Campaigns may also do: edit the journeys at run
// time (*bot.Outreach does, when a store keeps them).
type journeyEditor interface {
	LoadJourneys(ctx context.Context) error
	JourneysVersion() int
	JourneysEditable() bool
	SaveJourney(ctx context.Context, j bot.Journey, expected int, who string) (int, error)
	DeleteJourney(ctx context.Context, id string, expected int, who string) (int, error)
}

var _ journeyEditor = (*bot.Outreach)(nil)

// journeys is the journey editing, nil when the Campaigns cannot edit.
func (s *Server) journeys() journeyEditor {
	if j, ok := s.opts.Campaigns.(journeyEditor); ok && j.JourneysEditable() {
		return j
	}
	return nil
}

// location is the shop's time zone.
func (s *Server) location() *time.Location {
	if z, ok := s.opts.Campaigns.(zoned); ok && z.Location() != nil {
		return z.Location()
	}
	return bot.DefaultLocation()
}

// campaignRoutes registers the campaign API.
func (s *Server) campaignRoutes(api func(string, apiHandler)) {
	api("GET /api/admin/journeys", s.listJourneys)
	api("GET /api/admin/outreach", s.outreachSettings)
	api("PUT /api/admin/journeys/{id}", s.putJourney)
	api("DELETE /api/admin/journeys/{id}", s.deleteJourney)
	api("GET /api/admin/campaigns", s.listCampaigns)
	api("POST /api/admin/campaigns", s.createCampaign)
	api("POST /api/admin/campaigns/preview", s.previewCampaign)
	api("POST /api/admin/campaigns/test", s.testCampaign)
	api("GET /api/admin/campaigns/{id}", s.getCampaign)
	api("POST /api/admin/campaigns/{id}/pause", s.steerCampaign(s.opts.Campaigns.PauseCampaign))
	api("POST /api/admin/campaigns/{id}/resume", s.steerCampaign(s.opts.Campaigns.ResumeCampaign))
	api("POST /api/admin/campaigns/{id}/cancel", s.steerCampaign(s.opts.Campaigns.CancelCampaign))
}

// campaignBody is a campaign as the API takes it.
type campaignBody struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Segments []string          `json:"segments"`
	Rule     string            `json:"rule"`
	Offer    string            `json:"offer"`
	Text     map[string]string `json:"text"`
	// At is when to start (RFC 3339); empty: at once. AtLocal is the
	// same as a wall time of the shop's time zone ("2026-12-24T09:00"),
	// what a date and time picker gives.
	At       string `json:"at"`
	AtLocal  string `json:"at_local"`
	Customer crm.ID `json:"customer_id,omitempty"` // test sends only
}

func (b *campaignBody) campaign(loc *time.Location) (*crm.Campaign, error) {
	c := &crm.Campaign{ID: b.ID, Name: b.Name, Audience: crm.Audience{Segments: b.Segments, Rule: b.Rule},
		OfferID: b.Offer, Text: b.Text}
	if b.AtLocal != "" {
		if b.At != "" {
			return nil, badRequestf("Give \"at\" or \"at_local\", not both.")
		}
		at, err := parseLocal(b.AtLocal, loc)
		if err != nil {
			return nil, err
		}
		c.At = at
	}
	if b.At != "" {
		at, err := time.Parse(time.RFC3339, b.At)
		if err != nil {
			return nil, badRequestf("\"at\" must be a time like 2026-12-24T09:00:00+07:00.")
		}
		c.At = at
	}
	return c, nil
}

// parseLocal reads a wall time of the shop ("2026-12-24T09:00", seconds
// allowed) in its time zone.
func parseLocal(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if at, err := time.ParseInLocation(layout, s, loc); err == nil {
			return at, nil
		}
	}
	return time.Time{}, badRequestf(fmt.Sprintf("\"at_local\" must be a date and time like 2026-12-24T09:00 (shop time, %s).", loc))
}

// campaignView is a campaign with its progress (and measures, one by one).
type campaignView struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Kind      string             `json:"kind"`
	Status    string             `json:"status"`
	Segments  []string           `json:"segments,omitempty"`
	Rule      string             `json:"rule,omitempty"`
	Offer     string             `json:"offer,omitempty"`
	At        time.Time          `json:"at,omitzero"`
	Audience  int64              `json:"audience_estimate"`
	Queued    int64              `json:"queued"`
	Sent      int64              `json:"sent"`
	Failed    int64              `json:"failed"`
	Skipped   map[string]int64   `json:"skipped"`
	Pending   int64              `json:"pending"`
	Remaining int64              `json:"remaining"`
	ETA       time.Time          `json:"eta,omitzero"`
	CreatedBy string             `json:"created_by,omitempty"`
	CreatedAt time.Time          `json:"created_at"`
	Stats     *bot.CampaignStats `json:"stats,omitempty"`
}

func viewOf(p *bot.CampaignProgress) campaignView {
	skipped := p.Skipped
	if skipped == nil {
		skipped = map[string]int64{}
	}
	return campaignView{ID: p.ID, Name: p.Name, Kind: p.Kind, Status: p.Status, Segments: p.Audience.Segments,
		Rule: p.Audience.Rule, Offer: p.OfferID, At: p.At, Audience: p.Estimate, Queued: p.Queued, Sent: p.Sent,
		Failed: p.Failed, Skipped: skipped, Pending: p.Pending, Remaining: p.Remaining, ETA: p.ETA,
		CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt}
}

// listCampaigns answers every campaign and journey occurrence, newest
// first; with ?stats=1 each with its measures (one read of its sends and
// their customers' events each: the page asks for them, a poller of
// progress does not need to).
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, _ caller) error {
	list, err := s.opts.Campaigns.ListCampaigns(r.Context())
	if err != nil {
		return err
	}
	withStats := r.URL.Query().Get("stats") == "1"
	out := make([]campaignView, 0, len(list))
	for _, p := range list {
		v := viewOf(p)
		if withStats {
			if v.Stats, err = s.opts.Campaigns.Stats(r.Context(), p.ID); err != nil {
				return err
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, _ caller) error {
	id := r.PathValue("id")
	p, err := s.opts.Campaigns.Progress(r.Context(), id)
	if err != nil {
		return err
	}
	v := viewOf(p)
	if v.Stats, err = s.opts.Campaigns.Stats(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, c caller) error {
	var body campaignBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	camp, err := body.campaign(s.location())
	if err != nil {
		return err
	}
	if camp, err = s.opts.Campaigns.CreateCampaign(r.Context(), camp, c.who); err != nil {
		return err
	}
	p, err := s.opts.Campaigns.Progress(r.Context(), camp.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewOf(p))
	return nil
}

func (s *Server) previewCampaign(w http.ResponseWriter, r *http.Request, _ caller) error {
	var body campaignBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	camp, err := body.campaign(s.location())
	if err != nil {
		return err
	}
	p, err := s.opts.Campaigns.Preview(r.Context(), camp)
	if err != nil {
		return err
	}
	skipped := make([]map[string]any, 0, len(p.SkipNames))
	for _, k := range p.SkipNames {
		skipped = append(skipped, map[string]any{"customer_id": k.ID, "name": k.Name, "reason": k.Reason})
	}
	writeJSON(w, http.StatusOK, map[string]any{"audience": p.Audience, "send_per_channel": p.Send,
		"skipped": p.Skipped, "skipped_customers": skipped, "samples": p.Samples})
	return nil
}

func (s *Server) testCampaign(w http.ResponseWriter, r *http.Request, _ caller) error {
	var body campaignBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Customer == 0 {
		return badRequestf("\"customer_id\" names the customer to send the test to.")
	}
	camp, err := body.campaign(s.location())
	if err != nil {
		return err
	}
	it, err := s.opts.Campaigns.TestSend(r.Context(), camp, body.Customer)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"outbox_id": strconv.FormatUint(uint64(it.ID), 10),
		"channel": it.Channel, "text": it.Text})
	return nil
}

func (s *Server) steerCampaign(f func(context.Context, string) (*crm.Campaign, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, _ caller) error {
		c, err := f(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		p, err := s.opts.Campaigns.Progress(r.Context(), c.ID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, viewOf(p))
		return nil
	}
}

// listJourneys answers the journeys (configs/journeys.yaml, or as last
// saved here); their occurrences are campaigns of kind "journey".
func (s *Server) listJourneys(w http.ResponseWriter, r *http.Request, _ caller) error {
	if j := s.journeys(); j != nil {
		// Saved on another replica meanwhile: read them.
		if err := j.LoadJourneys(r.Context()); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, s.opts.Campaigns.Journeys())
	return nil
}

// journeyBody is a journey as the page saves it, with the version of the
// journeys the editor read.
type journeyBody struct {
	bot.Journey
	Version int `json:"version"`
}

// putJourney adds or replaces the journey {id}; the answer is the new
// version and the journeys.
func (s *Server) putJourney(w http.ResponseWriter, r *http.Request, c caller) error {
	je := s.journeys()
	if je == nil {
		return badRequestf("Journeys are set in configs/journeys.yaml here: this idicbot keeps no edited journeys.")
	}
	var body journeyBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.ID == "" {
		body.ID = r.PathValue("id")
	}
	if body.ID != r.PathValue("id") {
		return badRequestf("The journey's id cannot change; make a new journey and delete the old one.")
	}
	v, err := je.SaveJourney(r.Context(), body.Journey, body.Version, c.who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": v, "journeys": s.opts.Campaigns.Journeys()})
	return nil
}

// deleteJourney removes the journey {id} (?version= the version read).
func (s *Server) deleteJourney(w http.ResponseWriter, r *http.Request, c caller) error {
	je := s.journeys()
	if je == nil {
		return badRequestf("Journeys are set in configs/journeys.yaml here: this idicbot keeps no edited journeys.")
	}
	ver, err := strconv.Atoi(r.URL.Query().Get("version"))
	if err != nil {
		return badRequestf("?version= is the version of the journeys you read (GET /api/admin/outreach).")
	}
	v, err := je.DeleteJourney(r.Context(), r.PathValue("id"), ver, c.who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": v, "journeys": s.opts.Campaigns.Journeys()})
	return nil
}

// outreachSettings answers what the page needs to schedule in shop time:
// the time zone, its offset now, and the quiet hours ("21:00"–"08:00", or
// empty when off).
func (s *Server) outreachSettings(w http.ResponseWriter, _ *http.Request, _ caller) error {
	loc := s.location()
	now := s.opts.Now().In(loc)
	_, off := now.Zone()
	body := map[string]any{"timezone": loc.String(), "offset_minutes": off / 60, "now_local": now.Format("2006-01-02T15:04")}
	if z, ok := s.opts.Campaigns.(zoned); ok {
		if from, until := z.QuietHours(); from >= 0 && until >= 0 && from != until {
			hm := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
			body["quiet_from"], body["quiet_until"] = hm(from), hm(until)
		}
	}
	if j := s.journeys(); j != nil {
		body["journeys_editable"], body["journeys_version"] = true, j.JourneysVersion()
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
