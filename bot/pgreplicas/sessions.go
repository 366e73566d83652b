package pgreplicas

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sessions keeps the admin page's logins in the shared database
// (admin.SessionStore), so a login on one replica works on every other.
type Sessions struct {
	pool *pgxpool.Pool
}

// NewSessions returns the session store on pool's database.
func NewSessions(pool *pgxpool.Pool) *Sessions { return &Sessions{pool: pool} }

// PutSession stores value under key until expires, and drops the
// sessions that expired.
func (s *Sessions) PutSession(ctx context.Context, key string, value []byte, expires time.Time) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM admin_sessions WHERE expires < now()`)
	b.Queue(`INSERT INTO admin_sessions (key, data, expires) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, expires = EXCLUDED.expires`, key, value, expires)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store admin session: %w", err)
	}
	return nil
}

// Session returns the value under key, nil when none or expired.
func (s *Sessions) Session(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM admin_sessions WHERE key = $1 AND expires > now()`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read admin session: %w", err)
	}
	return v, nil
}

// DeleteSession removes the session under key (a logout).
func (s *Sessions) DeleteSession(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM admin_sessions WHERE key = $1`, key); err != nil {
		return fmt.Errorf("delete admin session: %w", err)
	}
	return nil
}
