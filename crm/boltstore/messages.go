package boltstore

import (
	"context"

	"github.com/idicbot/idicbot/crm"
)

// bktMessages holds the versions of the messages file saved at run time
// (crm.MessagesVersions; layout: versions.go).
var bktMessages = []byte("messages_versions")

var _ crm.MessagesVersions = (*DB)(nil)

// MessagesHistory implements crm.MessagesVersions.
func (db *DB) MessagesHistory(ctx context.Context) ([]*crm.MessagesVersion, error) {
	return versionHistory[crm.MessagesVersion](ctx, db, bktMessages, "messages")
}

// SaveMessages implements crm.MessagesVersions.
func (db *DB) SaveMessages(ctx context.Context, v *crm.MessagesVersion) error {
	return saveVersion(ctx, db, bktMessages, "messages", v.Version, v, func(latest int) error {
		return crm.Errorf(crm.ECONFLICT, "The bot's phrases were saved meanwhile (now version %d); reload and make your change again.", latest).
			Say("messages_conflict", latest)
	})
}
