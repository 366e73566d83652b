package main

import (
	"context"
	"net/http"
)

// wireSlack turns the slack part on when its environment is set.
func (m *Main) wireSlack(ctx context.Context, mux *http.ServeMux) error {
	return nil
}
