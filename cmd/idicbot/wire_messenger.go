package main

import (
	"context"
	"net/http"
)

// wireMessenger turns the messenger part on when its environment is set.
func (m *Main) wireMessenger(ctx context.Context, mux *http.ServeMux) error {
	return nil
}
