package crm

import "time"

// SegmentRuleChange is one admin edit of a segment's rule.
type SegmentRuleChange struct {
	Time    time.Time `json:"time"`
	By      string    `json:"by"`
	Origin  string    `json:"origin"`
	Segment string    `json:"segment"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	// Moved is how many customers the sweep after the save moved.
	Moved int `json:"moved"`
}

// ChannelToken is a channel's OAuth state kept across restarts (Zalo OA:
// the refresh token is single-use, so each new one must be stored before
// the access token it came with is used).
type ChannelToken struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"` // zero: unknown
	// Seed fingerprints the environment token these descend from, so a new
	// one set by the operator replaces the stored ones.
	Seed string `json:"seed,omitempty"`
}

// MaxSegmentRuleChanges is how many rule edits a store keeps (the oldest
// are dropped).
const MaxSegmentRuleChanges = 500
