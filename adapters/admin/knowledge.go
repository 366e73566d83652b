package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Knowledge is the editing of the shop's FAQ (knowledge entries) at run
// time. *bot.KnowledgeAdmin implements it.
type Knowledge interface {
	State(ctx context.Context) (*bot.KnowledgeState, error)
	Validate(entries []*crm.KnowledgeEntry) []bot.KnowledgeProblem
	Preview(entries []*crm.KnowledgeEntry, question string) (*bot.KnowledgePreview, error)
	Save(ctx context.Context, entries []*crm.KnowledgeEntry, expected int, who, origin string) (*crm.KnowledgeVersion, error)
	Rollback(ctx context.Context, version, expected int, who, origin string) (*crm.KnowledgeVersion, error)
}

var _ Knowledge = (*bot.KnowledgeAdmin)(nil)

// knowledgeRoutes registers the FAQ API:
//
//	GET    /api/admin/knowledge                   the live entries and the versions
//	PUT    /api/admin/knowledge                   {entries, version}: save them all
//	POST   /api/admin/knowledge/validate          {entries}: their problems
//	POST   /api/admin/knowledge/preview           {entries, question}: what the bot would answer
//	POST   /api/admin/knowledge/rollback          {to, version}: an older version as the newest
//	PUT    /api/admin/knowledge/entries/{id}      {entry, version}: add or change one entry
//	DELETE /api/admin/knowledge/entries/{id}?version=N: remove one entry
func (s *Server) knowledgeRoutes(api func(string, apiHandler)) {
	if s.opts.Knowledge == nil {
		return
	}
	api("GET /api/admin/knowledge", s.getKnowledge)
	api("PUT /api/admin/knowledge", s.putKnowledge)
	api("POST /api/admin/knowledge/validate", s.validateKnowledge)
	api("POST /api/admin/knowledge/preview", s.previewKnowledge)
	api("POST /api/admin/knowledge/rollback", s.rollbackKnowledge)
	api("PUT /api/admin/knowledge/entries/{id}", s.putKnowledgeEntry)
	api("DELETE /api/admin/knowledge/entries/{id}", s.deleteKnowledgeEntry)
}

// knowledgeError writes a refused edit with its problems (422), or any
// other error as the API does.
func (s *Server) knowledgeError(w http.ResponseWriter, r *http.Request, err error) error {
	var inv *bot.InvalidKnowledgeError
	if !errors.As(err, &inv) {
		return err
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]any{
		"code": crm.EINVALID, "message": s.errorText(r, err), "problems": inv.Problems}})
	return nil
}

func (s *Server) getKnowledge(w http.ResponseWriter, r *http.Request, _ caller) error {
	st, err := s.opts.Knowledge.State(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) validateKnowledge(w http.ResponseWriter, r *http.Request, _ caller) error {
	var body struct {
		Entries []*crm.KnowledgeEntry `json:"entries"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	ps := s.opts.Knowledge.Validate(body.Entries)
	if ps == nil {
		ps = []bot.KnowledgeProblem{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"problems": ps})
	return nil
}

func (s *Server) previewKnowledge(w http.ResponseWriter, r *http.Request, _ caller) error {
	var body struct {
		Entries  []*crm.KnowledgeEntry `json:"entries"`
		Question string                `json:"question"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Entries == nil {
		// No edit: the live entries.
		st, err := s.opts.Knowledge.State(r.Context())
		if err != nil {
			return err
		}
		body.Entries = st.Entries
	}
	p, err := s.opts.Knowledge.Preview(body.Entries, body.Question)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) putKnowledge(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Entries []*crm.KnowledgeEntry `json:"entries"`
		Version *int                  `json:"version"`
		// History is accepted and ignored, so a GET answer can be sent
		// back as it is.
		History any `json:"history,omitempty"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Version == nil {
		return badRequestf("\"version\" is required: the version your edit started from (0 for the file's).")
	}
	return s.saveKnowledge(w, r, c, body.Entries, *body.Version, "")
}

func (s *Server) saveKnowledge(w http.ResponseWriter, r *http.Request, c caller, entries []*crm.KnowledgeEntry, expected int, what string) error {
	if entries == nil {
		entries = []*crm.KnowledgeEntry{}
	}
	v, err := s.opts.Knowledge.Save(r.Context(), entries, expected, c.who, c.origin)
	if err != nil {
		return s.knowledgeError(w, r, err)
	}
	s.log.InfoContext(r.Context(), "admin: FAQ entries saved", "version", v.Version, "entry", what, "entries", len(v.Entries), "by", c.who, "origin", c.origin)
	writeJSON(w, http.StatusOK, map[string]any{"version": v})
	return nil
}

func (s *Server) putKnowledgeEntry(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		crm.KnowledgeEntry
		Version *int `json:"version"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Version == nil {
		return badRequestf("\"version\" is required: the newest version you saw (0 for the file's).")
	}
	id := r.PathValue("id")
	if body.ID == "" {
		body.ID = id
	}
	st, err := s.opts.Knowledge.State(r.Context())
	if err != nil {
		return err
	}
	if st.Version != *body.Version {
		return crm.Errorf(crm.ECONFLICT, "The FAQ entries were saved meanwhile (now version %d); reload and make your change again.", st.Version).
			Say("knowledge_conflict", st.Version)
	}
	entry := body.KnowledgeEntry
	entries := make([]*crm.KnowledgeEntry, 0, len(st.Entries)+1)
	placed := false
	for _, e := range st.Entries {
		if e.ID == id {
			entries, placed = append(entries, &entry), true
			continue
		}
		entries = append(entries, e)
	}
	if !placed {
		entries = append(entries, &entry)
	}
	return s.saveKnowledge(w, r, c, entries, st.Version, id)
}

func (s *Server) deleteKnowledgeEntry(w http.ResponseWriter, r *http.Request, c caller) error {
	expected, err := strconv.Atoi(r.URL.Query().Get("version"))
	if err != nil {
		return badRequestf("\"version\" is required in the query: the newest version you saw (0 for the file's).")
	}
	id := r.PathValue("id")
	st, err := s.opts.Knowledge.State(r.Context())
	if err != nil {
		return err
	}
	if st.Version != expected {
		return crm.Errorf(crm.ECONFLICT, "The FAQ entries were saved meanwhile (now version %d); reload and make your change again.", st.Version).
			Say("knowledge_conflict", st.Version)
	}
	entries := make([]*crm.KnowledgeEntry, 0, len(st.Entries))
	for _, e := range st.Entries {
		if e.ID != id {
			entries = append(entries, e)
		}
	}
	if len(entries) == len(st.Entries) {
		return crm.Errorf(crm.ENOTFOUND, "There is no FAQ entry %q.", id).Say("knowledge_no_entry", id)
	}
	return s.saveKnowledge(w, r, c, entries, st.Version, id)
}

func (s *Server) rollbackKnowledge(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		To      int  `json:"to"`
		Version *int `json:"version"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Version == nil {
		return badRequestf("\"version\" is required: the newest version you saw.")
	}
	v, err := s.opts.Knowledge.Rollback(r.Context(), body.To, *body.Version, c.who, c.origin)
	if err != nil {
		return s.knowledgeError(w, r, err)
	}
	s.log.InfoContext(r.Context(), "admin: FAQ entries rolled back", "to", body.To, "version", v.Version, "by", c.who, "origin", c.origin)
	writeJSON(w, http.StatusOK, map[string]any{"version": v})
	return nil
}
