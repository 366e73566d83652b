package admin_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/admin"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

// newPrivacyEnv is an admin server with the data rights routes on, over a
// store holding one customer with a phone, a Telegram id and a message.
func newPrivacyEnv(t *testing.T) (*env, crm.ID) {
	t.Helper()
	kit := bottest.NewCore(t, bottest.StartAt(time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)), bottest.NoDispatcher(), bottest.NoOffers())
	db, core, now := kit.DB, kit.Core, kit.Now
	mux := http.NewServeMux()
	admin.New(core, admin.Options{Token: token, Privacy: bot.NewPrivacy(db, db, now), Now: now,
		Logger: slog.New(slog.DiscardHandler)}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var id crm.ID
	if err := db.Update(context.Background(), func(tx crm.Tx) error {
		c := &crm.Customer{Name: "Phùng Bảo Ngọc", Phone: "+84903118422",
			Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "612004577"}}}
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		id = c.ID
		return tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Direction: crm.Inbound, Channel: crm.ChannelTelegram,
			Kind: crm.KindText, Text: "ship giúp mình về 48 Hàng Bạc"})
	}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, core: core, srv: srv}, id
}

func TestCustomerExportAndErase_API(t *testing.T) {
	e, id := newPrivacyEnv(t)
	base := "/api/admin/customers/" + strconv.FormatUint(uint64(id), 10)

	if st := e.callAuth("", "GET", base+"/export", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("export without a token: %d, want 401", st)
	}
	var x crm.CustomerExport
	if st := e.call("GET", base+"/export", nil, &x); st != http.StatusOK {
		t.Fatalf("export: %d", st)
	}
	if x.Customer == nil || x.Customer.Phone != "+84903118422" || len(x.Interactions) != 1 {
		t.Fatalf("export %+v", x)
	}

	var ae apiError
	if st := e.call("POST", base+"/erase", map[string]any{}, &ae); st != http.StatusBadRequest {
		t.Fatalf("erase without confirm: %d %+v, want 400", st, ae)
	}
	var got struct {
		Erasure crm.Erasure `json:"erasure"`
		Warning string      `json:"warning"`
	}
	if st := e.call("POST", base+"/erase", map[string]any{"confirm": true}, &got); st != http.StatusOK {
		t.Fatalf("erase: %d", st)
	}
	if got.Erasure.CustomerID != id || got.Erasure.By != "admin:lan (api)" || got.Warning != "" {
		t.Fatalf("erase answer %+v", got)
	}
	data, err := os.ReadFile(e.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"+84903118422", "Phùng Bảo Ngọc", "612004577", "48 Hàng Bạc"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("%q still in the data file after the erase through the API", s)
		}
	}
	if st := e.call("POST", base+"/erase", map[string]any{"confirm": true}, &ae); st != http.StatusConflict {
		t.Fatalf("second erase: %d %+v, want 409", st, ae)
	}
	if st := e.call("GET", "/api/admin/customers/987654/export", nil, &ae); st != http.StatusNotFound {
		t.Fatalf("export of an unknown id: %d, want 404", st)
	}
	if st := e.call("GET", "/api/admin/customers/abc/export", nil, &ae); st != http.StatusBadRequest {
		t.Fatalf("export of a bad id: %d, want 400", st)
	}
}

func TestCustomerExport_APIOffWithoutPrivacy(t *testing.T) {
	e := newEnv(t)
	var ae apiError
	if st := e.call("GET", "/api/admin/customers/1/export", nil, &ae); st != http.StatusServiceUnavailable {
		t.Fatalf("export without the service: %d, want 503", st)
	}
}
