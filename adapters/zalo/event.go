package zalo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/adapters/internal/jsonid"
)

// FlexString is an id, timestamp or count that Zalo sends either as a JSON
// string or as a JSON number. It keeps the literal digits: Zalo's ids have
// 18–19 digits and would lose precision as float64.
type FlexString string

// UnmarshalJSON accepts a string, a number or a boolean (kept as written)
// or null.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	s, err := jsonid.Literal(b)
	if err != nil {
		return fmt.Errorf("zalo: %w", err)
	}
	*f = FlexString(s)
	return nil
}

func (f FlexString) String() string { return string(f) }

// Int returns the value as an integer, and false when it is not one.
func (f FlexString) Int() (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(f)), 10, 64)
	return n, err == nil
}

// flexList decodes a JSON array, or a single value as a list of one, so a
// field documented as an array that arrives as one value still parses.
type flexList[T any] []T

func (l *flexList[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*l = nil
		return nil
	}
	if b[0] == '[' {
		var out []T
		if err := json.Unmarshal(b, &out); err != nil {
			return err
		}
		*l = out
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*l = flexList[T]{one}
	return nil
}

// Event names the adapter acts on (spec §2.4). Others are logged and
// acknowledged.
const (
	EventUserSendText         = "user_send_text"
	EventUserSendImage        = "user_send_image"
	EventUserSendGIF          = "user_send_gif"
	EventUserSendSticker      = "user_send_sticker"
	EventUserSendLocation     = "user_send_location"
	EventUserSendLink         = "user_send_link"
	EventUserSendAudio        = "user_send_audio"
	EventUserSendVideo        = "user_send_video"
	EventUserSendFile         = "user_send_file"
	EventUserSendBusinessCard = "user_send_business_card"
	EventFollow               = "follow"
	EventUnfollow             = "unfollow"
	EventUserSubmitInfo       = "user_submit_info"
	EventOASendText           = "oa_send_text"
	EventUserSeenMessage      = "user_seen_message"
	EventUserReceivedMessage  = "user_received_message"
	EventUserClickChatNow     = "user_click_chatnow"
)

// party is a sender, recipient or follower. Zalo names the id "id"; the
// send API names it "user_id", so both are read.
type party struct {
	ID     FlexString `json:"id"`
	UserID FlexString `json:"user_id"`
}

func (p *party) id() string {
	if p == nil {
		return ""
	}
	if p.ID != "" {
		return string(p.ID)
	}
	return string(p.UserID)
}

// Event is one webhook call. Message and Info are decoded separately and
// leniently: a payload of an unexpected shape degrades to a placeholder
// instead of refusing the whole event.
type Event struct {
	AppID       FlexString      `json:"app_id"`
	OAID        FlexString      `json:"oa_id"`
	EventName   string          `json:"event_name"`
	Timestamp   FlexString      `json:"timestamp"`
	Sender      *party          `json:"sender"`
	Recipient   *party          `json:"recipient"`
	Follower    *party          `json:"follower"`
	UserIDByApp FlexString      `json:"user_id_by_app"`
	Source      FlexString      `json:"source"`
	RawMessage  json.RawMessage `json:"message"`
	RawInfo     json.RawMessage `json:"info"`

	Message Message    `json:"-"`
	Info    SubmitInfo `json:"-"`
	// Unreadable says why Message or Info could not be decoded ("" if fine).
	Unreadable string `json:"-"`
}

// Message is the message part of message and echo events.
type Message struct {
	MsgID       FlexString           `json:"msg_id"`
	MsgIDs      flexList[FlexString] `json:"msg_ids"`
	Text        FlexString           `json:"text"`
	Attachments flexList[Attachment] `json:"attachments"`
}

// Attachment is one item of message.attachments.
type Attachment struct {
	Type    FlexString `json:"type"`
	Payload Payload    `json:"payload"`
}

// Payload holds every attachment field the spec lists; most are optional.
type Payload struct {
	URL         FlexString   `json:"url"`
	Thumbnail   FlexString   `json:"thumbnail"`
	Description FlexString   `json:"description"`
	Title       FlexString   `json:"title"`
	Name        FlexString   `json:"name"`
	Size        FlexString   `json:"size"`
	Checksum    FlexString   `json:"checksum"`
	Type        FlexString   `json:"type"`
	ID          FlexString   `json:"id"`
	Coordinates *Coordinates `json:"coordinates"`
	// Business card fields, as far as they are known.
	Phone FlexString `json:"phone"`
}

// Coordinates of a shared location; Zalo sends them as strings.
type Coordinates struct {
	Latitude  FlexString `json:"latitude"`
	Longitude FlexString `json:"longitude"`
}

// SubmitInfo is what a customer filled in the request-user-info form.
type SubmitInfo struct {
	Name     FlexString `json:"name"`
	Phone    FlexString `json:"phone"`
	Address  FlexString `json:"address"`
	Ward     FlexString `json:"ward"`
	District FlexString `json:"district"`
	City     FlexString `json:"city"`
}

// ParseEvent decodes a webhook body. Only a body that is not a JSON object,
// or whose envelope cannot be read, is an error.
func ParseEvent(raw []byte) (*Event, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("zalo: webhook body is not a JSON object")
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("zalo: webhook envelope: %w", err)
	}
	if len(ev.RawMessage) > 0 && string(ev.RawMessage) != "null" {
		if err := json.Unmarshal(ev.RawMessage, &ev.Message); err != nil {
			ev.Unreadable = "message: " + err.Error()
			// Keep what can be read: the message id at least.
			var ids struct {
				MsgID FlexString `json:"msg_id"`
			}
			_ = json.Unmarshal(ev.RawMessage, &ids)
			ev.Message = Message{MsgID: ids.MsgID}
		}
	}
	if len(ev.RawInfo) > 0 && string(ev.RawInfo) != "null" {
		if err := json.Unmarshal(ev.RawInfo, &ev.Info); err != nil {
			ev.Unreadable = "info: " + err.Error()
		}
	}
	return &ev, nil
}

// Time is the event's timestamp (Unix milliseconds), or zero.
func (e *Event) Time() time.Time {
	if ms, ok := e.Timestamp.Int(); ok && ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

// Customer is the user id of the customer the event is about: the follower
// on follow/unfollow; otherwise whichever of sender and recipient is not the
// OA (oaID, when known), else the direction the event name implies.
func (e *Event) Customer(oaID string) string {
	if e.EventName == EventFollow || e.EventName == EventUnfollow {
		if id := e.Follower.id(); id != "" {
			return id
		}
		return e.Sender.id()
	}
	s, r := e.Sender.id(), e.Recipient.id()
	if oaID != "" {
		switch oaID {
		case s:
			return r
		case r:
			return s
		}
	}
	if e.fromOA() {
		return r
	}
	return s
}

// fromOA reports events whose sender is the OA.
func (e *Event) fromOA() bool {
	return strings.HasPrefix(e.EventName, "oa_") || e.EventName == EventUserSeenMessage || e.EventName == EventUserReceivedMessage
}

// DedupeKey is the key that makes a redelivered event change nothing
// (spec §2.5): the message id for message and echo events (echoes prefixed
// "oa:", the key our own sends are recorded under), event|follower|timestamp
// for follow and unfollow, event|sender|timestamp for the rest.
func (e *Event) DedupeKey() string {
	id := string(e.Message.MsgID)
	switch {
	case e.EventName == EventFollow || e.EventName == EventUnfollow:
		return e.EventName + "|" + e.Customer("") + "|" + string(e.Timestamp)
	case strings.HasPrefix(e.EventName, "oa_send_") && id != "":
		return sentKey(id)
	case strings.HasPrefix(e.EventName, "user_send_") && id != "":
		return id
	}
	return e.EventName + "|" + e.Sender.id() + "|" + string(e.Timestamp)
}

// sentKey is the dedupe key under which a message the OA sent is recorded.
func sentKey(msgID string) string { return "oa:" + msgID }

// Describe returns a line for each attachment ("[image] https://…"), so the
// logged text says what arrived.
func (m *Message) Describe() []string {
	var out []string
	for _, a := range m.Attachments {
		p := a.Payload
		typ := string(a.Type)
		if typ == "" {
			typ = "attachment"
		}
		parts := []string{"[" + typ + "]"}
		switch typ {
		case "location":
			if p.Coordinates != nil {
				parts = append(parts, string(p.Coordinates.Latitude)+","+string(p.Coordinates.Longitude))
			}
		case "file":
			if p.Name != "" {
				parts = append(parts, string(p.Name))
			}
		case "link":
			if p.Title != "" {
				parts = append(parts, string(p.Title))
			} else if p.Description != "" {
				parts = append(parts, string(p.Description))
			}
		case "sticker":
			if p.ID != "" && p.URL == "" {
				parts = append(parts, "id "+string(p.ID))
			}
		case "contact", "business_card":
			if p.Name != "" {
				parts = append(parts, string(p.Name))
			}
			if p.Phone != "" {
				parts = append(parts, string(p.Phone))
			}
		}
		if p.URL != "" {
			parts = append(parts, string(p.URL))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}
