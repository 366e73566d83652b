package admin

import (
	"context"
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

// campaignRoutes registers the campaign API.
func (s *Server) campaignRoutes(api func(string, apiHandler)) {
	api("GET /api/admin/journeys", s.listJourneys)
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
	// At is when to start (RFC 3339); empty: at once.
	At       string `json:"at"`
	Customer crm.ID `json:"customer_id,omitempty"` // test sends only
}

func (b *campaignBody) campaign() (*crm.Campaign, error) {
	c := &crm.Campaign{ID: b.ID, Name: b.Name, Audience: crm.Audience{Segments: b.Segments, Rule: b.Rule},
		OfferID: b.Offer, Text: b.Text}
	if b.At != "" {
		at, err := time.Parse(time.RFC3339, b.At)
		if err != nil {
			return nil, badRequestf("\"at\" must be a time like 2026-12-24T09:00:00+07:00.")
		}
		c.At = at
	}
	return c, nil
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

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, _ caller) error {
	list, err := s.opts.Campaigns.ListCampaigns(r.Context())
	if err != nil {
		return err
	}
	out := make([]campaignView, 0, len(list))
	for _, p := range list {
		out = append(out, viewOf(p))
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
	camp, err := body.campaign()
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
	camp, err := body.campaign()
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
	camp, err := body.campaign()
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

// listJourneys answers the journeys as configured (configs/journeys.yaml);
// their occurrences are campaigns of kind "journey".
func (s *Server) listJourneys(w http.ResponseWriter, _ *http.Request, _ caller) error {
	writeJSON(w, http.StatusOK, s.opts.Campaigns.Journeys())
	return nil
}
