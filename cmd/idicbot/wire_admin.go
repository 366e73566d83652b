package main

import (
	"context"
	"net/http"
)

// wireAdmin turns the admin part on when its environment is set.
func (m *Main) wireAdmin(ctx context.Context, mux *http.ServeMux) error {
	return nil
}
