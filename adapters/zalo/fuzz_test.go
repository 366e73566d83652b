package zalo_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/adapters/zalo/zalotest"
)

const (
	fuzzAppID = "1460227055765217376"
	fuzzOAID  = "579745863508352884"
	fuzzKey   = "oa-secret-key"
)

// eventSeeds are webhook bodies shaped as Zalo sends them, and broken ones.
func eventSeeds() [][]byte {
	ev := zalotest.Events{AppID: fuzzAppID, OAID: fuzzOAID}
	const user, ms = "2512523625412515", int64(1764489600000)
	seeds := [][]byte{
		ev.Text(user, "msg-1", "giá iphone 15 bao nhiêu ạ? sdt 0912 345 678", ms),
		ev.Image(user, "msg-2", "mẫu này", ms), ev.GIF(user, "msg-3", ms), ev.Sticker(user, "msg-4", ms),
		ev.Location(user, "msg-5", ms), ev.Link(user, "msg-6", ms), ev.Audio(user, "msg-7", ms), ev.Video(user, "msg-8", ms),
		ev.File(user, "msg-9", ms), ev.BusinessCard(user, "msg-10", ms), ev.Follow("follow", user, ms), ev.Follow("unfollow", user, ms),
		ev.SubmitInfo(user, zalotest.Info{Name: "Lan", Phone: "84912345678", Address: "12 Lý Thường Kiệt"}, ms),
		ev.OASend("oa_send_text", user, "msg-11", "Chào bạn", ms), ev.Seen(user, []string{"msg-11", "msg-12"}, ms),
		ev.Received(user, "msg-11", ms), ev.Other("user_reacted_message", user, ms),
		ev.Text(user, "msg-13", "\u0000\xed\xa0\x80"+strings.Repeat("ư", 3000), -1),
	}
	for _, s := range []string{"", " ", "{}", "[]", "null", "\x00{", "{\"message\":1}", "{\"message\":{\"msg_id\":5,\"attachments\":7}}",
		`{"event_name":"user_send_text","sender":{"id":1e400},"timestamp":"x","message":{"text":null}}`,
		`{"event_name":"follow","follower":{"id":null},"timestamp":9223372036854775807}`, `{"info":[1,2]}`, "{\"app_id\":\"\xff\"}"} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// FuzzParseEvent: any body either is refused or decodes to an event whose
// time, customer, dedupe key and description are computed without a panic
// and the same each time (a redelivered event dedupes).
func FuzzParseEvent(f *testing.F) {
	for _, s := range eventSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := zalo.ParseEvent(raw)
		if err != nil {
			if ev != nil {
				t.Fatalf("ParseEvent: an event and an error: %v", err)
			}
			return
		}
		again, err := zalo.ParseEvent(raw)
		if err != nil {
			t.Fatalf("ParseEvent not deterministic: %v", err)
		}
		_ = ev.Time()
		_ = ev.Message.Describe()
		for _, oa := range []string{"", fuzzOAID} {
			if a, b := ev.Customer(oa), again.Customer(oa); a != b {
				t.Fatalf("Customer(%q): %q, then %q", oa, a, b)
			}
		}
		if a, b := ev.DedupeKey(), again.DedupeKey(); a == "" || a != b {
			t.Fatalf("DedupeKey: %q, then %q", a, b)
		}
	})
}

// FuzzVerify: a body signed with the OA's key verifies; the same signature
// on a body changed by one byte, or under another key, does not.
func FuzzVerify(f *testing.F) {
	for i, s := range eventSeeds() {
		f.Add(s, uint(i), byte(1))
	}
	f.Fuzz(func(t *testing.T, raw []byte, at uint, flip byte) {
		mac := zalo.MAC(fuzzAppID, raw, timestampOf(raw), fuzzKey)
		err := zalo.Verify(fuzzAppID, fuzzKey, raw, "mac="+mac, "")
		if err != nil {
			return // not JSON, or not our app id: refused, fine
		}
		if err := zalo.Verify(fuzzAppID, fuzzKey+"x", raw, mac, ""); err == nil {
			t.Fatal("verified under another key")
		}
		if len(raw) == 0 || flip == 0 {
			return
		}
		changed := bytes.Clone(raw)
		changed[at%uint(len(raw))] ^= flip
		if err := zalo.Verify(fuzzAppID, fuzzKey, changed, "mac="+mac, ""); err == nil {
			t.Fatalf("a changed body verified: %q", changed)
		}
	})
}

// timestampOf is the body's timestamp as written, as Zalo signs it.
func timestampOf(raw []byte) string {
	ev, err := zalo.ParseEvent(raw)
	if err != nil {
		return ""
	}
	return string(ev.Timestamp)
}
