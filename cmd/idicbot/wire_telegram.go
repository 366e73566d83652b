package main

import (
	"context"
	"net/http"
)

// wireTelegram turns the telegram part on when its environment is set.
func (m *Main) wireTelegram(ctx context.Context, mux *http.ServeMux) error {
	return nil
}
