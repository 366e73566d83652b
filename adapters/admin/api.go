package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/idicbot/idicbot/adapters/internal/jsontext"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// readBody reads a bounded request body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, badRequestf(fmt.Sprintf("The body is over %d KiB.", MaxBodyBytes>>10))
		}
		return nil, badRequestf("Could not read the body.")
	}
	return body, nil
}

// decodeJSON reads a JSON body into v, refusing unknown fields so a typo in
// a field name is an error and not a silently dropped change.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if err := jsontext.Check(body); err != nil {
		return badRequestf(err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequestf("Malformed JSON body: " + err.Error())
	}
	return nil
}

// offerBody is an offer as the API takes it: the offer's fields, with
// "version" the version the edit started from (metadata fields are
// accepted and ignored, so a GET answer can be sent back as it is).
type offerBody struct {
	crm.Offer
	Stats json.RawMessage `json:"stats,omitempty"`
}

func (s *Server) listOffers(w http.ResponseWriter, r *http.Request, _ caller) error {
	offers, err := s.offers.ListOffers(r.Context())
	if err != nil {
		return err
	}
	if offers == nil {
		offers = []*bot.OfferView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"offers": offers})
	return nil
}

func (s *Server) getOffer(w http.ResponseWriter, r *http.Request, _ caller) error {
	o, err := s.offers.GetOffer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"offer": o})
	return nil
}

func (s *Server) createOffer(w http.ResponseWriter, r *http.Request, c caller) error {
	var body offerBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Version != 0 {
		return badRequestf("A new offer has no version; to change an existing offer use PUT /api/admin/offers/{id}.")
	}
	saved, err := s.offers.SaveOffer(r.Context(), &body.Offer, 0, c.who, c.origin)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"offer": saved})
	return nil
}

func (s *Server) putOffer(w http.ResponseWriter, r *http.Request, c caller) error {
	var body offerBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	id := r.PathValue("id")
	if body.ID == "" {
		body.ID = id
	}
	if body.ID != id {
		return badRequestf(fmt.Sprintf("The body's id %q differs from the path's %q; an offer's id cannot change.", body.ID, id))
	}
	if body.Version <= 0 {
		return badRequestf("\"version\" is required: the version your edit started from (to create an offer use POST /api/admin/offers).")
	}
	saved, err := s.offers.SaveOffer(r.Context(), &body.Offer, body.Version, c.who, c.origin)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"offer": saved})
	return nil
}

func (s *Server) setStatus(status string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		saved, err := s.offers.SetOfferStatus(r.Context(), r.PathValue("id"), status, c.who, c.origin)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"offer": saved})
		return nil
	}
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request, _ caller) error {
	vs, err := s.offers.OfferHistory(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
	return nil
}

func versionParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badRequestf(fmt.Sprintf("%s must be a version number.", name))
	}
	return n, nil
}

// diff compares two versions: ?from=&to=, to defaulting to the current
// version and from to the one before to.
func (s *Server) diff(w http.ResponseWriter, r *http.Request, _ caller) error {
	id := r.PathValue("id")
	from, err := versionParam(r, "from")
	if err != nil {
		return err
	}
	to, err := versionParam(r, "to")
	if err != nil {
		return err
	}
	if to == 0 {
		cur, err := s.offers.GetOffer(r.Context(), id)
		if err != nil {
			return err
		}
		to = cur.Version
	}
	if from == 0 {
		from = max(to-1, 1)
	}
	d, err := s.offers.DiffOffer(r.Context(), id, from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Version int `json:"version"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Version < 1 {
		return badRequestf("\"version\" is required: the version to go back to.")
	}
	saved, err := s.offers.Rollback(r.Context(), r.PathValue("id"), body.Version, c.who, c.origin)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"offer": saved})
	return nil
}

// previewRequest is the body of POST /api/admin/offers/preview.
type previewRequest struct {
	Offer      *offerBody `json:"offer"`
	CustomerID crm.ID     `json:"customer_id,omitempty"`
	Segment    string     `json:"segment,omitempty"`
}

func (s *Server) previewOffer(w http.ResponseWriter, r *http.Request, _ caller) error {
	var body previewRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Offer == nil {
		return badRequestf("\"offer\" is required.")
	}
	p, err := s.offers.PreviewOffer(r.Context(), &body.Offer.Offer, body.CustomerID, body.Segment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) export(w http.ResponseWriter, r *http.Request, _ caller) error {
	data, err := s.offers.ExportOffers(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="offers.yaml"`)
	_, _ = w.Write(data)
	return nil
}

// importOffers takes an offers file as the body; ?dry_run=1 only checks it.
func (s *Server) importOffers(w http.ResponseWriter, r *http.Request, c caller) error {
	data, err := readBody(w, r)
	if err != nil {
		return err
	}
	dry := false
	switch v := r.URL.Query().Get("dry_run"); v {
	case "", "0", "false":
	case "1", "true":
		dry = true
	default:
		return badRequestf("dry_run must be true or false.")
	}
	rep, err := s.offers.ImportOffers(r.Context(), "offers file", data, dry, c.who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// customerHit is a customer found for a preview.
type customerHit struct {
	ID       crm.ID `json:"id"`
	Name     string `json:"name"`
	Segment  string `json:"segment"`
	Phone    string `json:"phone,omitempty"` // masked
	Language string `json:"language,omitempty"`
}

// customers finds customers to preview an offer for: ?q= as reps search
// (bot.Reps.FindCustomers).
func (s *Server) customers(w http.ResponseWriter, r *http.Request, _ caller) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	hits := []customerHit{}
	if q == "" {
		writeJSON(w, http.StatusOK, map[string]any{"customers": hits})
		return nil
	}
	// The reps' search, one syntax everywhere: an id, a phone (the customer
	// who holds it, then those who typed it), an email, @username or words
	// of a name.
	found, err := s.reps.FindCustomers(r.Context(), q)
	if err != nil {
		if crm.ErrorCode(err) != crm.EINVALID {
			return err
		}
		found = nil // not a phone or email after all: nothing matches
	}
	seen := map[crm.ID]bool{}
	for _, cu := range found {
		if seen[cu.ID] || len(hits) >= 20 {
			continue
		}
		seen[cu.ID] = true
		hits = append(hits, customerHit{ID: cu.ID, Name: cu.Name, Segment: cu.Segment.Name, Phone: crm.MaskPhone(cu.Phone), Language: cu.Language})
	}
	writeJSON(w, http.StatusOK, map[string]any{"customers": hits})
	return nil
}

func (s *Server) listSegments(w http.ResponseWriter, r *http.Request, _ caller) error {
	list, err := s.segments.SegmentList(r.Context())
	if err != nil {
		return err
	}
	hist, err := s.segments.SegmentHistory(r.Context())
	if err != nil {
		return err
	}
	if hist == nil {
		hist = []bot.SegmentRuleChange{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"segments": list, "history": hist})
	return nil
}

func (s *Server) previewSegment(w http.ResponseWriter, r *http.Request, _ caller) error {
	var body struct {
		Rule string `json:"rule"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	p, err := s.segments.PreviewSegmentRule(r.Context(), r.PathValue("name"), body.Rule)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) putSegment(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Rule         string  `json:"rule"`
		ExpectedRule *string `json:"expected_rule"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.ExpectedRule == nil {
		return badRequestf("\"expected_rule\" is required: the rule your edit started from.")
	}
	res, err := s.segments.SaveSegmentRule(r.Context(), r.PathValue("name"), body.Rule, *body.ExpectedRule, c.who, c.origin)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// backup streams a consistent copy of the database.
func (s *Server) backup(w http.ResponseWriter, r *http.Request, c caller) error {
	if s.opts.Backup == nil {
		return crm.Errorf(crm.EUNAVAILABLE, "Backups are not available in this setup.")
	}
	name := "idicbot-" + s.now().UTC().Format("20060102-150405") + ".db"
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	n, err := s.opts.Backup(w)
	if err != nil {
		// Headers are gone: the client sees a cut download.
		s.log.ErrorContext(r.Context(), "admin backup", "err", err, "bytes", n)
		return nil
	}
	s.log.InfoContext(r.Context(), "admin backup", "by", c.who, "origin", c.origin, "bytes", n)
	return nil
}

// customerID reads the {id} of a customer route.
func customerID(r *http.Request) (crm.ID, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(r.PathValue("id"), "#"), 10, 64)
	if err != nil || n == 0 {
		return 0, badRequestf("The customer id must be a number.")
	}
	return crm.ID(n), nil
}

// exportCustomer answers everything stored about one customer as a JSON
// download (a data access request).
func (s *Server) exportCustomer(w http.ResponseWriter, r *http.Request, c caller) error {
	if s.opts.Privacy == nil {
		return crm.Errorf(crm.EUNAVAILABLE, "Customer export is not available in this setup.")
	}
	id, err := customerID(r)
	if err != nil {
		return err
	}
	x, err := s.opts.Privacy.Export(r.Context(), id)
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "admin customer export", "customer", id, "by", c.who, "origin", c.origin)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="customer-%d.json"`, id))
	writeJSON(w, http.StatusOK, x)
	return nil
}

// eraseCustomer erases one customer's personal data. It cannot be undone,
// so the body must say {"confirm": true}.
func (s *Server) eraseCustomer(w http.ResponseWriter, r *http.Request, c caller) error {
	if s.opts.Privacy == nil {
		return crm.Errorf(crm.EUNAVAILABLE, "Customer erase is not available in this setup.")
	}
	id, err := customerID(r)
	if err != nil {
		return err
	}
	var body struct {
		Confirm bool `json:"confirm"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if !body.Confirm {
		return badRequestf(`Erasing a customer cannot be undone: send {"confirm": true}.`)
	}
	e, err := s.opts.Privacy.Erase(r.Context(), id, "admin:"+c.who+" ("+c.origin+")")
	if e == nil {
		return err
	}
	answer := map[string]any{"erasure": e}
	if err != nil {
		// Erased, but the file still holds the old bytes until reopened.
		s.log.ErrorContext(r.Context(), "admin customer erase: compaction", "customer", id, "err", err)
		answer["warning"] = "Erased; the data file could not be compacted now and will be when idicbot restarts."
	}
	s.log.InfoContext(r.Context(), "admin customer erase", "customer", id, "by", c.who, "origin", c.origin)
	writeJSON(w, http.StatusOK, answer)
	return nil
}
