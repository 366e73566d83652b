// Package configs holds the default configuration files, embedded in the
// binary so that `idicbot serve` runs with no files at all. The same files
// are the documented examples a user copies and edits.
package configs

import "embed"

// Files holds idicbot.yaml, segments.yaml, offers.yaml, catalog.yaml and
// knowledge.md as shipped.
//
//go:embed *.yaml *.md
var Files embed.FS
