package main

import (
	"context"
	"net/http"
)

// wireZalo turns the zalo part on when its environment is set.
func (m *Main) wireZalo(ctx context.Context, mux *http.ServeMux) error {
	return nil
}
