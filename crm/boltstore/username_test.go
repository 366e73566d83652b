package boltstore

import (
	"context"
	"slices"
	"testing"

	"github.com/idicbot/idicbot/crm"
)

func usernameIDs(t *testing.T, tx crm.Tx, ch crm.Channel, user string) []crm.ID {
	t.Helper()
	found, err := tx.FindCustomersByUsername(ch, user)
	if err != nil {
		t.Fatal(err)
	}
	var ids []crm.ID
	for _, c := range found {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestFindCustomersByUsername(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	var a, b, c crm.ID
	update(t, db, func(tx crm.Tx) error {
		for _, p := range []struct {
			id   *crm.ID
			idns []crm.Identity
		}{
			{&a, []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "1", Username: "Lan_Shop"}}},
			{&b, []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "2", Username: "lan_shop"}, {Channel: crm.ChannelZalo, UserID: "z2", Username: "minh"}}},
			{&c, []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "3"}}},
		} {
			cu := &crm.Customer{Identities: p.idns}
			if err := tx.PutCustomer(cu); err != nil {
				return err
			}
			*p.id = cu.ID
		}
		return nil
	})
	view(t, db, func(tx crm.Tx) error {
		for _, q := range []string{"lan_shop", "@LAN_SHOP", " @Lan_Shop "} {
			if got := usernameIDs(t, tx, crm.ChannelTelegram, q); !slices.Equal(got, []crm.ID{a, b}) {
				t.Errorf("%q: %v, want %v", q, got, []crm.ID{a, b})
			}
		}
		for _, q := range []string{"", "@", "lan", "lan_shop2", "minh"} {
			if got := usernameIDs(t, tx, crm.ChannelTelegram, q); len(got) != 0 {
				t.Errorf("%q on telegram: %v, want none", q, got)
			}
		}
		if got := usernameIDs(t, tx, crm.ChannelZalo, "Minh"); !slices.Equal(got, []crm.ID{b}) {
			t.Errorf("minh on zalo: %v", got)
		}
		return nil
	})
	// A new username replaces the old one (on the optimistic path), a new
	// identity with a username is indexed, a merge removes the loser's.
	if err := db.Update(ctx, func(tx crm.Tx) error {
		cu, err := tx.Customer(a)
		if err != nil {
			return err
		}
		cu.AddIdentity(crm.Identity{Channel: crm.ChannelTelegram, UserID: "1", Username: "lan_new"})
		if err := tx.PutCustomer(cu); err != nil {
			return err
		}
		cc, err := tx.Customer(c)
		if err != nil {
			return err
		}
		cc.AddIdentity(crm.Identity{Channel: crm.ChannelTelegram, UserID: "3", Username: "Chi"})
		return tx.PutCustomer(cc)
	}); err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx crm.Tx) error {
		if got := usernameIDs(t, tx, crm.ChannelTelegram, "lan_shop"); !slices.Equal(got, []crm.ID{b}) {
			t.Errorf("lan_shop after rename: %v, want [%d]", got, b)
		}
		if got := usernameIDs(t, tx, crm.ChannelTelegram, "LAN_NEW"); !slices.Equal(got, []crm.ID{a}) {
			t.Errorf("lan_new: %v, want [%d]", got, a)
		}
		if got := usernameIDs(t, tx, crm.ChannelTelegram, "chi"); !slices.Equal(got, []crm.ID{c}) {
			t.Errorf("chi: %v, want [%d]", got, c)
		}
		return nil
	})
	if err := db.Update(ctx, func(tx crm.Tx) error {
		return tx.DeleteCustomer(b, a)
	}); err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx crm.Tx) error {
		if got := usernameIDs(t, tx, crm.ChannelTelegram, "lan_shop"); len(got) != 0 {
			t.Errorf("lan_shop after merge: %v, want none", got)
		}
		if got := usernameIDs(t, tx, crm.ChannelZalo, "minh"); len(got) != 0 {
			t.Errorf("minh after merge: %v, want none", got)
		}
		return nil
	})
	// In an Update the lookup runs (in the writer, as it scans).
	if err := db.Update(ctx, func(tx crm.Tx) error {
		found, err := tx.FindCustomersByUsername(crm.ChannelTelegram, "@chi")
		if err != nil {
			return err // errNeedsWriter on the snapshot
		}
		if len(found) != 1 || found[0].ID != c {
			t.Errorf("chi in Update: %v", found)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// History keys share the customers bucket with the records: scans and
// writes during ForEachCustomer must not see or disturb them.
func TestForEachCustomer_SkipsHistoryKeys(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	var ids []crm.ID
	update(t, db, func(tx crm.Tx) error {
		for range 5 {
			cu := &crm.Customer{Name: "x"}
			if err := tx.PutCustomer(cu); err != nil {
				return err
			}
			ids = append(ids, cu.ID)
			for range 300 {
				if err := tx.AppendInteraction(&crm.Interaction{CustomerID: cu.ID, Text: "hello there"}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	var seen []crm.ID
	if err := db.Update(ctx, func(tx crm.Tx) error {
		seen = seen[:0]
		return tx.ForEachCustomer(func(cu *crm.Customer) error {
			seen = append(seen, cu.ID)
			cu.Name = "renamed"
			if err := tx.AppendInteraction(&crm.Interaction{CustomerID: cu.ID, Text: "bulk"}); err != nil {
				return err
			}
			return tx.PutCustomer(cu)
		})
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, ids) {
		t.Errorf("ForEachCustomer saw %v, want %v", seen, ids)
	}
	view(t, db, func(tx crm.Tx) error {
		for _, id := range ids {
			all, err := tx.Interactions(id, 0, 0)
			if err != nil || len(all) != 301 || all[300].Text != "bulk" {
				t.Errorf("customer %d: %d interactions, %v", id, len(all), err)
			}
			if r, _ := tx.RecentInteractions(id, 1000); len(r) != 301 {
				t.Errorf("customer %d: %d recent", id, len(r))
			}
		}
		if n, _ := tx.CustomerCount(); n != 5 {
			t.Errorf("count %d", n)
		}
		return nil
	})
}
