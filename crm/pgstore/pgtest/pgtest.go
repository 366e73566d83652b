// Package pgtest finds the PostgreSQL server tests run against and gives
// each test an empty schema of its own on it.
//
// The server is named by IDICBOT_TEST_DATABASE_URL (postgres://…). Without
// it, tests that need PostgreSQL are skipped, unless IDICBOT_REQUIRE_POSTGRES
// is 1 (as in CI, .ci/run): then they fail, so a CI without its database
// cannot pass by skipping. Only test files import this package.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL and EnvRequire are the variables this package reads.
const (
	EnvURL     = "IDICBOT_TEST_DATABASE_URL"
	EnvRequire = "IDICBOT_REQUIRE_POSTGRES"
)

// ServerURL returns the test server's URL, skipping tb (or failing it when
// PostgreSQL is required) when none is set.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("%s=1 but %s is not set: the PostgreSQL tests cannot run", EnvRequire, EnvURL)
		}
		tb.Skipf("no PostgreSQL: set %s=postgres://… to run this test", EnvURL)
	}
	return u
}

// URL returns the URL of a new, empty schema on the test server (the
// connection's search_path), dropped with everything in it when tb ends.
func URL(tb testing.TB) string {
	tb.Helper()
	server := ServerURL(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	exec(tb, server, `CREATE SCHEMA `+schema)
	tb.Cleanup(func() { exec(tb, server, `DROP SCHEMA `+schema+` CASCADE`) })
	return WithSearchPath(tb, server, schema)
}

// WithSearchPath returns server's URL with its search_path set to schema.
func WithSearchPath(tb testing.TB, server, schema string) string {
	tb.Helper()
	if strings.HasPrefix(server, "postgres://") || strings.HasPrefix(server, "postgresql://") {
		u, err := url.Parse(server)
		if err != nil {
			tb.Fatalf("%s: %v", EnvURL, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return server + " search_path=" + schema
}

func exec(tb testing.TB, server, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("connect to the test PostgreSQL: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
