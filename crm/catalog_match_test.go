package crm_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
)

// MatchWords finds what MatchPadded finds in the same words padded, in the
// same order: on the shipped catalog, every customer line of the bot's
// golden conversations, and each product's names and keywords alone, in
// other words and together.
func TestMatchWordsIsMatchPadded(t *testing.T) {
	data, err := configs.Files.ReadFile("catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := crm.ParseCatalog("catalog.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"", "xin chào", "giá iphone 15 bao nhiêu", "so sánh iphone 15 pro max với samsung s24 ultra"}
	files, err := filepath.Glob(filepath.Join("..", "bot", "testdata", "conversations", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conversations: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if text, ok := strings.CutPrefix(line, "> "); ok {
				texts = append(texts, text)
			}
		}
	}
	var all []string
	for _, p := range cat.Products {
		for _, k := range append([]string{p.Name, p.NameEN}, p.Keywords...) {
			texts = append(texts, k, "x"+k, k+"x", "mua "+k+" nhé", k+" và "+p.Name)
			all = append(all, k)
		}
	}
	texts = append(texts, strings.Join(all, " "), strings.Join(all, ", "))
	slices.Reverse(all)
	texts = append(texts, strings.Join(all, " "))
	// A short keyword of p before another product and p's longest: the
	// longest counts, and it orders the products.
	for _, p := range cat.Products {
		ks := append([]string{p.Name, p.NameEN}, p.Keywords...)
		slices.SortFunc(ks, func(a, b string) int { return len(a) - len(b) })
		for _, q := range cat.Products {
			texts = append(texts, ks[0]+" "+q.Name+" "+ks[len(ks)-1], q.Name+" "+ks[0])
		}
	}
	for _, text := range texts {
		words := crm.Words(crm.Fold(text))
		got, want := cat.MatchWords(words), cat.MatchPadded(" "+strings.Join(words, " ")+" ")
		if !reflect.DeepEqual(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%q: MatchWords = %v, MatchPadded = %v", text, ids(got), ids(want))
		}
	}
	if got := (&crm.Catalog{}).MatchWords([]string{"iphone"}); got == nil || len(got) != 0 {
		t.Errorf("an empty catalog's MatchWords = %#v, want an empty slice as MatchPadded's", got)
	}
}

func ids(ps []*crm.Product) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}
