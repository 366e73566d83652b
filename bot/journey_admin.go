package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/idicbot/idicbot/crm"
)

// LoadJourneys makes the newest journeys saved from the admin page live
// (they win over the file's); without a saved version the file's stay.
func (o *Outreach) LoadJourneys(ctx context.Context) error {
	if o.opts.JourneyStore == nil {
		return nil
	}
	v, err := o.opts.JourneyStore.LatestJourneys(ctx)
	if err != nil || v == nil || v.Version == o.JourneysVersion() {
		return err
	}
	var js []Journey
	if err := json.Unmarshal([]byte(v.JSON), &js); err != nil {
		return fmt.Errorf("journeys version %d: %w", v.Version, err)
	}
	if err := CheckJourneys(js); err != nil {
		return fmt.Errorf("journeys version %d: %w", v.Version, err)
	}
	o.live.Store(&js)
	o.liveVer.Store(int64(v.Version))
	return nil
}

// JourneysVersion is the saved version of the live journeys; 0 while they
// are the file's.
func (o *Outreach) JourneysVersion() int { return int(o.liveVer.Load()) }

// JourneysEditable reports whether journeys can be saved (a store keeps
// them).
func (o *Outreach) JourneysEditable() bool { return o.opts.JourneyStore != nil }

// SaveJourney adds or replaces (by id) a journey and saves the whole set as
// the version after expected (the version the editor read; ECONFLICT when
// someone saved meanwhile). An invalid journey is EINVALID and changes
// nothing. It returns the new version.
func (o *Outreach) SaveJourney(ctx context.Context, j Journey, expected int, who string) (int, error) {
	return o.editJourneys(ctx, expected, who, func(js []Journey) ([]Journey, error) {
		if i := slices.IndexFunc(js, func(x Journey) bool { return x.ID == j.ID }); i >= 0 {
			js[i] = j
			return js, nil
		}
		return append(js, j), nil
	})
}

// DeleteJourney removes a journey (its past occurrences stay, with their
// results) and saves the set as the version after expected.
func (o *Outreach) DeleteJourney(ctx context.Context, id string, expected int, who string) (int, error) {
	return o.editJourneys(ctx, expected, who, func(js []Journey) ([]Journey, error) {
		i := slices.IndexFunc(js, func(x Journey) bool { return x.ID == id })
		if i < 0 {
			return nil, crm.Errorf(crm.ENOTFOUND, "Journey %q not found.", id)
		}
		return slices.Delete(js, i, i+1), nil
	})
}

func (o *Outreach) editJourneys(ctx context.Context, expected int, who string, edit func([]Journey) ([]Journey, error)) (int, error) {
	if o.opts.JourneyStore == nil {
		return 0, crm.Errorf(crm.EINVALID, "Journeys are set in the journeys file here; this idicbot keeps no edited journeys.")
	}
	o.journeysMu.Lock()
	defer o.journeysMu.Unlock()
	if cur := o.JourneysVersion(); expected != cur {
		return 0, crm.Errorf(crm.ECONFLICT, "The journeys were saved meanwhile (now version %d); reload and make your change again.", cur).
			Say("journeys_conflict", cur)
	}
	js, err := edit(o.Journeys())
	if err != nil {
		return 0, err
	}
	if err := CheckJourneys(js); err != nil {
		return 0, err
	}
	data, err := json.Marshal(js)
	if err != nil {
		return 0, fmt.Errorf("encode the journeys: %w", err)
	}
	v := &crm.JourneysVersion{Version: expected + 1, JSON: string(data), By: who, At: o.core.now()}
	if err := o.opts.JourneyStore.SaveJourneys(ctx, v); err != nil {
		return 0, err
	}
	o.live.Store(&js)
	o.liveVer.Store(int64(v.Version))
	o.Wake()
	return v.Version, nil
}
