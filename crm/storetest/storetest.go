// Package storetest is the conformance suite of crm.Store: the behaviour
// every store must have, written once against the interface and run
// against each implementation (litestream's RunWithReplicaClient pattern).
// A store's own tests call Run with an Opener:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Opener{Open: ..., Reopen: ...})
//	}
//
// The suite is black-box: it uses crm.Store and crm.Tx only, so what a
// store does beyond them (pages, group commit, compaction, its own
// integrity check) is tested by the store's own tests. An Opener should
// run that integrity check at each subtest's cleanup, so a subtest that
// breaks an index fails where it broke it.
//
// Update may run its function more than once (crm.Store), so the suite
// builds every record inside the function and checks what it read after
// Update returned, from the run that committed.
//
// Only test files import this package: the product binary must not link
// it (go list -deps ./cmd/idicbot).
package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Opener opens the stores a conformance run tests.
type Opener struct {
	// Open returns a new, empty store for one subtest. The store lives
	// until t ends: Open registers its closing (and the store's integrity
	// check) with t.Cleanup.
	Open func(t *testing.T) crm.Store
	// Reopen closes s and opens its data again, as a restarted process
	// would, and returns the store to use from then on. Nil skips the
	// persistence subtests (a store that keeps nothing across a restart).
	Reopen func(t *testing.T, s crm.Store) crm.Store
}

// Run runs every conformance subtest against stores from o, each subtest
// on a store of its own.
func Run(t *testing.T, o Opener) {
	if o.Open == nil {
		t.Fatal("storetest: Opener.Open is nil")
	}
	groups := []struct {
		name  string
		tests []test
	}{
		{"Customers", customerTests},
		{"Logs", logTests},
		{"Outbox", outboxTests},
		{"Settings", settingsTests},
		{"Privacy", privacyTests},
		{"Campaigns", campaignTests},
		{"Transactions", txTests},
		{"Rollups", rollupTests},
		{"Knowledge", knowledgeTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					if tt.reopens && o.Reopen == nil {
						t.Skip("the store cannot be reopened (Opener.Reopen is nil)")
					}
					tt.run(t, o)
				})
			}
		})
	}
}

// test is one conformance subtest.
type test struct {
	name string
	// reopens: the subtest needs Opener.Reopen.
	reopens bool
	run     func(t *testing.T, o Opener)
}

// errRollback is what the suite's Update functions return to abort.
var errRollback = errors.New("storetest: roll back")

// base is the instant the suite's records are dated from: UTC, whole
// microseconds, so a store that keeps times to the microsecond (SQL) and
// returns them in UTC still compares equal.
var base = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

func update(tb testing.TB, s crm.Store, fn func(crm.Tx) error) {
	tb.Helper()
	if err := s.Update(tb.Context(), fn); err != nil {
		tb.Fatalf("update: %v", err)
	}
}

func view(tb testing.TB, s crm.Store, fn func(crm.Tx) error) {
	tb.Helper()
	if err := s.View(tb.Context(), fn); err != nil {
		tb.Fatalf("view: %v", err)
	}
}

// create stores copies of cs as new customers (their ID must be 0) in one
// transaction and returns their ids, setting them on cs too.
func create(tb testing.TB, s crm.Store, cs ...*crm.Customer) []crm.ID {
	tb.Helper()
	ids := make([]crm.ID, len(cs))
	update(tb, s, func(tx crm.Tx) error {
		for i, c := range cs {
			cp := *c // built again on every run of fn
			if err := tx.PutCustomer(&cp); err != nil {
				return err
			}
			ids[i] = cp.ID
		}
		return nil
	})
	for i, c := range cs {
		if ids[i] == 0 {
			tb.Fatalf("customer %d (%q) got no id", i, c.Name)
		}
		c.ID = ids[i]
	}
	return ids
}

// customer reads customer id in a View.
func customer(tb testing.TB, s crm.Store, id crm.ID) *crm.Customer {
	tb.Helper()
	var c *crm.Customer
	view(tb, s, func(tx crm.Tx) (err error) {
		c, err = tx.Customer(id)
		return err
	})
	return c
}

// change reads customer id, applies edit and saves it, in one Update.
func change(tb testing.TB, s crm.Store, id crm.ID, edit func(c *crm.Customer)) {
	tb.Helper()
	update(tb, s, func(tx crm.Tx) error {
		c, err := tx.Customer(id)
		if err != nil {
			return err
		}
		edit(c)
		return tx.PutCustomer(c)
	})
}

// idsOf returns the ids of cs, sorted: the suite compares result sets
// whose order crm.Tx does not promise.
func idsOf(cs []*crm.Customer) []crm.ID {
	out := []crm.ID{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

// idOf is the id of c, 0 for nil (a find that found nothing).
func idOf(c *crm.Customer) crm.ID {
	if c == nil {
		return 0
	}
	return c.ID
}

// sorted returns ids sorted, never nil.
func sorted(ids ...crm.ID) []crm.ID {
	out := append([]crm.ID{}, ids...)
	slices.Sort(out)
	return out
}

// wantCode fails unless err carries the domain error code.
func wantCode(tb testing.TB, what string, err error, code string) {
	tb.Helper()
	if got := crm.ErrorCode(err); got != code {
		tb.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}
