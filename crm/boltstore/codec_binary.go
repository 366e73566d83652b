package boltstore

import (
	"fmt"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// The values every message writes are kept in the compact binary form of
// package reccodec, each behind a format byte of its own: customer records
// (every message decodes its customer and encodes it again), interactions
// (two or so a message) and outbox items (one or so a message), besides
// delivery states (stateFormat, codec.go). Being smaller than the JSON,
// more of them fit each page. Values in JSON, written by older binaries,
// still decode; older binaries, which know only formatVersion, refuse these
// forms as newer instead of misreading them.

// decodeCustomer reads a customer record: the binary form, or the JSON of
// older binaries.
func decodeCustomer(key, data []byte, c *crm.Customer) error {
	if !reccodec.IsCustomer(data) {
		return decode(bktCustomers, key, data, c)
	}
	return binaryErr(bktCustomers, key, reccodec.DecodeCustomer(data, c))
}

// decodeInteraction reads an interaction: the binary form, or the JSON of
// older binaries.
func decodeInteraction(key, data []byte, i *crm.Interaction) error {
	if !reccodec.IsInteraction(data) {
		return decode(bktInteractions, key, data, i)
	}
	return binaryErr(bktInteractions, key, reccodec.DecodeInteraction(data, i))
}

// decodeOutboxItem reads an outbox item as queued (its delivery state is
// kept apart): the binary form, or the JSON of older binaries.
func decodeOutboxItem(key, data []byte, it *crm.OutboxItem) error {
	if !reccodec.IsOutboxItem(data) {
		return decode(bktOutbox, key, data, it)
	}
	return binaryErr(bktOutbox, key, reccodec.DecodeOutboxItem(data, it))
}

// binaryErr names the value a decoding error is about, as decode does.
func binaryErr(bucket, key []byte, err error) error {
	if err != nil {
		return fmt.Errorf("%s/%x: %w", bucket, key, err)
	}
	return nil
}
