package boltstore

import (
	"context"
	"path/filepath"
	"testing"
)

func TestLangPrefs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idicbot.db")
	db := mustOpenPath(t, path)
	if got, err := db.Lang(ctx, "slack:U1"); err != nil || got != "" {
		t.Fatalf("Lang before any choice = %q, %v; want empty", got, err)
	}
	if err := db.SetLang(ctx, "slack:U1", "en"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLang(ctx, "slack:U2", "en"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLang(ctx, "slack:U2", ""); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLang(ctx, "", "en"); err == nil {
		t.Error("SetLang without a person succeeded")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path)
	for who, want := range map[string]string{"slack:U1": "en", "slack:U2": "", "slack:U3": ""} {
		if got, err := db.Lang(ctx, who); err != nil || got != want {
			t.Errorf("after reopen Lang(%s) = %q, %v; want %q", who, got, err, want)
		}
	}
}
