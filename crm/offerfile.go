package crm

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// OffersFile is the shape of configs/offers.yaml.
type OffersFile struct {
	Offers []*Offer `yaml:"offers"`
}

// ParseOffers reads an offers file and validates every offer (shape,
// eligibility, templates rendered for a sample customer of each target
// segment). It returns every problem found, not just the first, so an
// import changes nothing unless the whole file is right.
func ParseOffers(file string, data []byte, segments []string, now time.Time) ([]*Offer, error) {
	var f OffersFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, Errorf(EINVALID, "%s: %v", file, err)
	}
	var errs []error
	seen := map[string]bool{}
	for i, o := range f.Offers {
		if o == nil {
			errs = append(errs, fmt.Errorf("offer #%d is empty", i+1))
			continue
		}
		if seen[o.ID] {
			errs = append(errs, fmt.Errorf("offer %s: defined twice", o.ID))
			continue
		}
		seen[o.ID] = true
		if err := ValidateOffer(o, segments, now); err != nil {
			errs = append(errs, errors.New(ErrorMessage(err)))
		}
	}
	if len(errs) > 0 {
		return nil, Errorf(EINVALID, "%s: %v", file, errors.Join(errs...))
	}
	return f.Offers, nil
}

// ValidateOffer checks an offer completely before it may be saved: it
// compiles, its target segments exist, and every template renders for a
// sample customer of every target segment.
func ValidateOffer(o *Offer, segments []string, now time.Time) error {
	co, err := CompileOffer(o)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, s := range segments {
		known[s] = true
	}
	for _, s := range o.Segments {
		if len(segments) > 0 && !known[s] {
			return Errorf(EINVALID, "offer %s: segment %q does not exist", o.ID, s)
		}
	}
	return co.Validate(segments, now)
}
