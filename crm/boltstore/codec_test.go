package boltstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

func TestOutboxStateCodec(t *testing.T) {
	at := time.Date(2026, 12, 2, 13, 34, 37, 807015894, time.UTC)
	for _, tc := range []struct {
		name string
		st   outboxState
		max  int // encoded size at most
	}{
		{"sent", outboxState{Status: crm.OutboxSent, Attempts: 1, SentAt: at}, 16},
		{"pending, never tried", outboxState{Status: crm.OutboxPending}, 11},
		{"retrying", outboxState{Status: crm.OutboxPending, Attempts: 3, NextAttempt: at.Add(time.Minute), LastError: "telegram: 502 Bad Gateway"}, 50},
		{"failed", outboxState{Status: crm.OutboxFailed, Attempts: 300, LastError: strings.Repeat("é", 200)}, 420},
		{"before 1970", outboxState{Status: crm.OutboxSent, SentAt: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)}, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := encodeOutboxState(&tc.st)
			if len(v) > tc.max {
				t.Errorf("encoded in %d bytes, want at most %d", len(v), tc.max)
			}
			got, err := decodeOutboxState(idKey(7), v)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.st.Status || got.Attempts != tc.st.Attempts || got.LastError != tc.st.LastError ||
				!got.NextAttempt.Equal(tc.st.NextAttempt) || !got.SentAt.Equal(tc.st.SentAt) {
				t.Errorf("decoded %+v, want %+v", got, tc.st)
			}
			// Every shorter prefix is refused, never misread.
			for n := range len(v) {
				if _, err := decodeOutboxState(idKey(7), v[:n]); err == nil {
					t.Errorf("%d of %d bytes decoded without error", n, len(v))
				}
			}
		})
	}
}

// A state stored in JSON by an earlier binary still reads, and an earlier
// binary refuses the compact form as newer instead of misreading it.
func TestOutboxStateCodecCompatibility(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	old, err := encode(&outboxState{Status: crm.OutboxSent, Attempts: 2, SentAt: at, LastError: "x"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeOutboxState(idKey(1), old)
	if err != nil || st.Status != crm.OutboxSent || st.Attempts != 2 || !st.SentAt.Equal(at) || st.LastError != "x" {
		t.Fatalf("JSON state decoded as %+v, %v", st, err)
	}
	var legacy outboxState
	err = decode(bktOutboxState, idKey(1), encodeOutboxState(&outboxState{Status: crm.OutboxSent}), &legacy)
	if !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("JSON-only decode of the compact form: %v, want ErrNewerFormat", err)
	}
}
