package admin

import (
	"context"
	"net/http"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Messages is the editing of the bot's own phrases (the messages file) at
// run time. *bot.MessagesAdmin implements it.
type Messages interface {
	State(ctx context.Context) (*bot.MessagesState, error)
	Preview(e *bot.MessagesEdit) ([]bot.Phrase, error)
	Save(ctx context.Context, e *bot.MessagesEdit, expected int, who, origin string) (*crm.MessagesVersion, error)
	Rollback(ctx context.Context, version, expected int, who, origin string) (*crm.MessagesVersion, error)
}

var _ Messages = (*bot.MessagesAdmin)(nil)

func (s *Server) getMessages(w http.ResponseWriter, r *http.Request, _ caller) error {
	st, err := s.opts.Messages.State(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) previewMessages(w http.ResponseWriter, r *http.Request, _ caller) error {
	var e bot.MessagesEdit
	if err := decodeJSON(w, r, &e); err != nil {
		return err
	}
	p, err := s.opts.Messages.Preview(&e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"phrases": p})
	return nil
}

func (s *Server) putMessages(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		bot.MessagesEdit
		Version *int `json:"version"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Version == nil {
		return badRequestf("\"version\" is required: the version your edit started from (0 for the file's).")
	}
	v, err := s.opts.Messages.Save(r.Context(), &body.MessagesEdit, *body.Version, c.who, c.origin)
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "admin: bot phrases saved", "version", v.Version, "by", c.who, "origin", c.origin)
	writeJSON(w, http.StatusOK, map[string]any{"version": v})
	return nil
}

func (s *Server) rollbackMessages(w http.ResponseWriter, r *http.Request, c caller) error {
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
	v, err := s.opts.Messages.Rollback(r.Context(), body.To, *body.Version, c.who, c.origin)
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "admin: bot phrases rolled back", "to", body.To, "version", v.Version, "by", c.who, "origin", c.origin)
	writeJSON(w, http.StatusOK, map[string]any{"version": v})
	return nil
}
