package crm

import (
	"bytes"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// OffersFile is the shape of configs/offers.yaml.
type OffersFile struct {
	Offers []*Offer `yaml:"offers"`
}

// ParseOffers reads an offers file and checks every offer as ValidateOffer
// does. It returns every problem found, not just the first, as an
// *InvalidOfferError naming the file and each problem's offer, so an import
// changes nothing unless the whole file is right.
func ParseOffers(file string, data []byte, segments []string, now time.Time) ([]*Offer, error) {
	var f OffersFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, Errorf(EINVALID, "%s: %v", file, err)
	}
	var probs []Problem
	seen := map[string]bool{}
	for i, o := range f.Offers {
		if o == nil {
			probs = append(probs, Problem{Offer: fmt.Sprintf("#%d", i+1), Field: "offer", Message: "is empty"})
			continue
		}
		if seen[o.ID] {
			probs = append(probs, Problem{Offer: o.ID, Field: "id", Message: "defined twice"})
			continue
		}
		seen[o.ID] = true
		for _, p := range checkOffer(o, segments, nil, now, false) {
			p.Offer = o.ID
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		return nil, &InvalidOfferError{File: file, Problems: probs}
	}
	return f.Offers, nil
}

// ValidateOffer checks an offer read from a file: CheckOffer without
// products, and without refusing an active offer that has already ended
// (a file read at every start outlives its dates; a save refuses it). The
// error is an *InvalidOfferError listing every problem, or nil.
func ValidateOffer(o *Offer, segments []string, now time.Time) error {
	if probs := checkOffer(o, segments, nil, now, false); len(probs) > 0 {
		return &InvalidOfferError{ID: o.ID, Problems: probs}
	}
	return nil
}
