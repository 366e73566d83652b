package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/idicbot/idicbot/crm"
)

// formatVersion prefixes every JSON value. Bump it when a change to a stored
// type would be misread by older binaries; decode refuses newer formats.
const formatVersion = 1

// jsonOptions keep the stored JSON compatible with encoding/json (v1)
// semantics, while using the faster v2 implementation: the store is on the
// hot path of every message.
var jsonOptions = json.JoinOptions(json.FormatNilSliceAsNull(true), json.FormatNilMapAsNull(true),
	jsonv1.OmitEmptyWithLegacySemantics(true), jsontext.EscapeForHTML(false))

// encodeBufs are scratch buffers for encode: the encoder writes straight
// into a bytes.Buffer, so a warm one saves growing a fresh one per value.
var encodeBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf is the largest scratch buffer kept for reuse.
const maxPooledBuf = 64 << 10

// encode marshals v behind the format byte. The result is a fresh slice of
// exactly the value's size.
func encode(v any) ([]byte, error) {
	buf := encodeBufs.Get().(*bytes.Buffer)
	buf.Reset()
	buf.WriteByte(formatVersion)
	err := json.MarshalWrite(buf, v, jsonOptions)
	var out []byte
	if err == nil {
		out = bytes.Clone(buf.Bytes())
	}
	if buf.Cap() <= maxPooledBuf {
		encodeBufs.Put(buf)
	}
	return out, err
}

// decode unmarshals a value written by encode. json.Unmarshal copies, so the
// result does not alias bbolt memory.
func decode(bucket []byte, key []byte, data []byte, v any) error {
	if len(data) == 0 {
		return fmt.Errorf("%s/%x: empty value", bucket, key)
	}
	switch f := data[0]; {
	case f > formatVersion:
		return fmt.Errorf("%s/%x: stored by a newer idicbot (format %d); upgrade: %w", bucket, key, f, ErrNewerFormat)
	case f != formatVersion:
		return fmt.Errorf("%s/%x: unknown value format %d", bucket, key, f)
	}
	if err := json.Unmarshal(data[1:], v, jsonOptions); err != nil {
		return fmt.Errorf("%s/%x: %w", bucket, key, err)
	}
	return nil
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func idKey(id crm.ID) []byte { return u64(uint64(id)) }

// pairKey is two ids (customer id + record id).
func pairKey(a, b crm.ID) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(a))
	binary.BigEndian.PutUint64(k[8:], uint64(b))
	return k
}

// strIDKey is s 0x00 id, for "all ids under a string" prefix scans.
func strIDKey(s string, id uint64) []byte {
	k := make([]byte, 0, len(s)+9)
	k = append(k, s...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, id)
}

// segmentKey is an idx_segment key: segment 0x00, total spent inverted
// (8 bytes), id; so a segment's keys run from its most valuable customer
// down, and ties by id. A negative total counts as 0.
func segmentKey(segment string, spent int64, id uint64) []byte {
	k := make([]byte, 0, len(segment)+17)
	k = append(k, segment...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, ^uint64(max(spent, 0)))
	return binary.BigEndian.AppendUint64(k, id)
}

// strPrefix is s 0x00: the prefix of every strIDKey for s.
func strPrefix(s string) []byte {
	return append([]byte(s), 0)
}

func readID(v []byte) crm.ID {
	if len(v) != 8 {
		return 0
	}
	return crm.ID(binary.BigEndian.Uint64(v))
}

// timeKey sorts times as signed nanoseconds (sign bit flipped) then seq.
func timeKey(t time.Time, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano())^(1<<63))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil when there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// stateFormat prefixes an outbox delivery state in its compact binary form
// (every sent item stores one, so its size decides how many of the pages
// recording sends a commit rewrites). Older binaries, which know only
// formatVersion, refuse it as newer; older states in JSON still decode.
//
// After the byte: flags (1: next attempt, 2: sent at, 4: last error), the
// status (uvarint length, bytes), attempts (uvarint), then the times as
// 8-byte Unix nanoseconds and the last error (uvarint length, bytes), each
// when its flag is set.
const stateFormat = 0x82

const (
	stateNextAttempt = 1 << iota
	stateSentAt
	stateLastError
)

func encodeOutboxState(st *outboxState) []byte {
	var flags byte
	if !st.NextAttempt.IsZero() {
		flags |= stateNextAttempt
	}
	if !st.SentAt.IsZero() {
		flags |= stateSentAt
	}
	if st.LastError != "" {
		flags |= stateLastError
	}
	b := make([]byte, 0, 4+len(st.Status)+binary.MaxVarintLen64+16+len(st.LastError)+binary.MaxVarintLen64)
	b = append(b, stateFormat, flags)
	b = binary.AppendUvarint(b, uint64(len(st.Status)))
	b = append(b, st.Status...)
	b = binary.AppendUvarint(b, uint64(max(st.Attempts, 0)))
	if flags&stateNextAttempt != 0 {
		b = binary.BigEndian.AppendUint64(b, uint64(st.NextAttempt.UnixNano()))
	}
	if flags&stateSentAt != 0 {
		b = binary.BigEndian.AppendUint64(b, uint64(st.SentAt.UnixNano()))
	}
	if flags&stateLastError != 0 {
		b = binary.AppendUvarint(b, uint64(len(st.LastError)))
		b = append(b, st.LastError...)
	}
	return b
}

// decodeOutboxState reads a state written by encodeOutboxState, or by an
// older binary in JSON.
func decodeOutboxState(key, data []byte) (outboxState, error) {
	var st outboxState
	if len(data) == 0 || data[0] != stateFormat {
		return st, decode(bktOutboxState, key, data, &st)
	}
	bad := func(what string) error {
		return fmt.Errorf("%s/%x: truncated delivery state (%s)", bktOutboxState, key, what)
	}
	d := data[1:]
	if len(d) == 0 {
		return st, bad("flags")
	}
	flags := d[0]
	d = d[1:]
	str := func(what string) (string, error) {
		n, w := binary.Uvarint(d)
		if w <= 0 || n > uint64(len(d)-w) {
			return "", bad(what)
		}
		s := string(d[w : w+int(n)])
		d = d[w+int(n):]
		return s, nil
	}
	stamp := func(what string) (time.Time, error) {
		if len(d) < 8 {
			return time.Time{}, bad(what)
		}
		t := time.Unix(0, int64(binary.BigEndian.Uint64(d))).UTC()
		d = d[8:]
		return t, nil
	}
	var err error
	if st.Status, err = str("status"); err != nil {
		return st, err
	}
	n, w := binary.Uvarint(d)
	if w <= 0 || n > 1<<31 {
		return st, bad("attempts")
	}
	st.Attempts, d = int(n), d[w:]
	if flags&stateNextAttempt != 0 {
		if st.NextAttempt, err = stamp("next attempt"); err != nil {
			return st, err
		}
	}
	if flags&stateSentAt != 0 {
		if st.SentAt, err = stamp("sent at"); err != nil {
			return st, err
		}
	}
	if flags&stateLastError != 0 {
		if st.LastError, err = str("last error"); err != nil {
			return st, err
		}
	}
	return st, nil
}
