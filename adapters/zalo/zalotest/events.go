package zalotest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Events builds webhook bodies shaped as the spec shows them (§2.3, §2.4):
// ids and timestamps as JSON strings, keys in Zalo's order.
type Events struct {
	AppID string
	OAID  string
}

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func ts(ms int64) string { return q(strconv.FormatInt(ms, 10)) }

// userEvent is a user → OA event around a message object.
func (e Events) userEvent(name, user, message string, ms int64) []byte {
	return []byte(`{"app_id":` + q(e.AppID) + `,"sender":{"id":` + q(user) + `},"user_id_by_app":"5530194475361094020","recipient":{"id":` + q(e.OAID) +
		`},"event_name":` + q(name) + `,"message":` + message + `,"timestamp":` + ts(ms) + `}`)
}

// Text is user_send_text.
func (e Events) Text(user, msgID, text string, ms int64) []byte {
	return e.userEvent("user_send_text", user, `{"text":`+q(text)+`,"msg_id":`+q(msgID)+`}`, ms)
}

// Attachment is a user_send_* event with one attachment of payload
// (a JSON object) and an optional caption.
func (e Events) Attachment(event, typ, user, msgID, caption, payload string, ms int64) []byte {
	msg := `{"attachments":[{"payload":` + payload + `,"type":` + q(typ) + `}]`
	if caption != "" {
		msg += `,"text":` + q(caption)
	}
	msg += `,"msg_id":` + q(msgID) + `}`
	return e.userEvent(event, user, msg, ms)
}

// Image is user_send_image with a caption, as in the spec's example.
func (e Events) Image(user, msgID, caption string, ms int64) []byte {
	return e.Attachment("user_send_image", "image", user, msgID, caption,
		`{"thumbnail":"https://photo-talk.zadn.vn/t.jpg","url":"https://photo-talk.zadn.vn/f.jpg"}`, ms)
}

// GIF is user_send_gif.
func (e Events) GIF(user, msgID string, ms int64) []byte {
	return e.Attachment("user_send_gif", "gif", user, msgID, "",
		`{"thumbnail":"https://photo-talk.zadn.vn/g.jpg","url":"https://photo-talk.zadn.vn/g.gif"}`, ms)
}

// Sticker is user_send_sticker.
func (e Events) Sticker(user, msgID string, ms int64) []byte {
	return e.Attachment("user_send_sticker", "sticker", user, msgID, "",
		`{"id":"46c9a8e5a4a04dfe14b1","url":"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=46c9"}`, ms)
}

// Location is user_send_location (coordinates as strings, as seen).
func (e Events) Location(user, msgID string, ms int64) []byte {
	return e.Attachment("user_send_location", "location", user, msgID, "",
		`{"coordinates":{"latitude":"10.7769","longitude":"106.7009"}}`, ms)
}

// Link is user_send_link.
func (e Events) Link(user, msgID string, ms int64) []byte {
	return e.Attachment("user_send_link", "link", user, msgID, "",
		`{"url":"https://shop.example/ao-dai","thumbnail":"https://shop.example/t.jpg","description":"Áo dài lụa"}`, ms)
}

// Audio is user_send_audio.
func (e Events) Audio(user, msgID string, ms int64) []byte {
	return e.Attachment("user_send_audio", "audio", user, msgID, "", `{"url":"https://voice-talk.zadn.vn/v.amr"}`, ms)
}

// Video is user_send_video.
func (e Events) Video(user, msgID string, ms int64) []byte {
	return e.Attachment("user_send_video", "video", user, msgID, "",
		`{"url":"https://video-talk.zadn.vn/v.mp4","thumbnail":"https://video-talk.zadn.vn/t.jpg","description":"clip"}`, ms)
}

// File is user_send_file (size as a number, which Zalo may send).
func (e Events) File(user, msgID string, ms int64) []byte {
	return e.Attachment("user_send_file", "file", user, msgID, "",
		`{"url":"https://file-talk.zadn.vn/don-hang.pdf","name":"don-hang.pdf","size":20480,"checksum":"9f86d081","type":"pdf"}`, ms)
}

// BusinessCard is user_send_business_card (shape not verified).
func (e Events) BusinessCard(user, msgID string, ms int64) []byte {
	return e.Attachment("user_send_business_card", "contact", user, msgID, "",
		`{"name":"Chị Lan","phone":"0912345678","url":"https://zalo.me/0912345678"}`, ms)
}

// Follow is a follow (or unfollow) event: oa_id and follower, no sender.
func (e Events) Follow(event, user string, ms int64) []byte {
	return []byte(`{"oa_id":` + q(e.OAID) + `,"follower":{"id":` + q(user) + `},"user_id_by_app":"5530194475361094020","event_name":` + q(event) +
		`,"source":"zalo","app_id":` + q(e.AppID) + `,"timestamp":` + ts(ms) + `}`)
}

// Info is the form of user_submit_info. Phone may be given as a JSON
// number (PhoneNumber true) as some endpoints do.
type Info struct {
	Name, Phone, Address, Ward, District, City string
	PhoneNumber                                bool
}

// SubmitInfo is user_submit_info.
func (e Events) SubmitInfo(user string, info Info, ms int64) []byte {
	phone := q(info.Phone)
	if info.PhoneNumber {
		phone = info.Phone
	}
	infoJSON := `{"address":` + q(info.Address) + `,"phone":` + phone + `,"city":` + q(info.City) + `,"district":` + q(info.District) +
		`,"name":` + q(info.Name) + `,"ward":` + q(info.Ward) + `}`
	return []byte(`{"app_id":` + q(e.AppID) + `,"sender":{"id":` + q(user) + `},"user_id_by_app":"5530194475361094020","recipient":{"id":` + q(e.OAID) +
		`},"event_name":"user_submit_info","info":` + infoJSON + `,"timestamp":` + ts(ms) + `}`)
}

// OASend is an echo of a message the OA sent (oa_send_text and the like):
// sender is the OA, recipient the user.
func (e Events) OASend(event, user, msgID, text string, ms int64) []byte {
	msg := `{"msg_id":` + q(msgID)
	if text != "" {
		msg += `,"text":` + q(text)
	}
	msg += `}`
	return []byte(`{"app_id":` + q(e.AppID) + `,"sender":{"id":` + q(e.OAID) + `},"user_id_by_app":"5530194475361094020","recipient":{"id":` + q(user) +
		`},"event_name":` + q(event) + `,"message":` + msg + `,"timestamp":` + ts(ms) + `}`)
}

// Seen is user_seen_message: msg_ids is an array.
func (e Events) Seen(user string, msgIDs []string, ms int64) []byte {
	ids, _ := json.Marshal(msgIDs)
	return []byte(`{"app_id":` + q(e.AppID) + `,"sender":{"id":` + q(e.OAID) + `},"user_id_by_app":"5530194475361094020","recipient":{"id":` + q(user) +
		`},"event_name":"user_seen_message","message":{"msg_ids":` + string(ids) + `},"timestamp":` + ts(ms) + `}`)
}

// Received is user_received_message with a single msg_id.
func (e Events) Received(user, msgID string, ms int64) []byte {
	return []byte(`{"app_id":` + q(e.AppID) + `,"sender":{"id":` + q(e.OAID) + `},"user_id_by_app":"5530194475361094020","recipient":{"id":` + q(user) +
		`},"event_name":"user_received_message","message":{"msg_id":` + q(msgID) + `,"delivery_time":` + ts(ms) + `},"timestamp":` + ts(ms) + `}`)
}

// Other is an event the spec lists as out of scope (user_click_chatnow,
// user_reacted_message, add_user_to_tag, anonymous_send_text …).
func (e Events) Other(event, user string, ms int64) []byte {
	return []byte(`{"app_id":` + q(e.AppID) + `,"sender":{"id":` + q(user) + `},"recipient":{"id":` + q(e.OAID) +
		`},"event_name":` + q(event) + `,"timestamp":` + ts(ms) + `}`)
}

// MAC computes Zalo's webhook MAC: hex SHA-256 of app id, body, timestamp
// and OA secret key (written here independently of the adapter).
func MAC(appID string, body []byte, timestamp, oaSecretKey string) string {
	var buf bytes.Buffer
	buf.WriteString(appID)
	buf.Write(body)
	buf.WriteString(timestamp)
	buf.WriteString(oaSecretKey)
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

// Signature returns the X-ZEvent-Signature header value for a body, using
// the body's own app_id and timestamp.
func Signature(body []byte, oaSecretKey string) string {
	var ids struct {
		AppID     json.Number `json:"app_id"`
		Timestamp json.Number `json:"timestamp"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	_ = d.Decode(&ids)
	return "mac=" + MAC(ids.AppID.String(), body, ids.Timestamp.String(), oaSecretKey)
}

// Post delivers a body to a webhook URL signed as Zalo signs it.
func Post(c *http.Client, url string, body []byte, oaSecretKey string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ZaloWebhook")
	req.Header.Set("X-ZEvent-Signature", Signature(body, oaSecretKey))
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post webhook: %w", err)
	}
	return resp, nil
}

// OASendAttachment is an echo of an attachment the OA sent (oa_send_image,
// oa_send_gif, oa_send_file …), payload a JSON object.
func (e Events) OASendAttachment(event, typ, user, msgID, payload string, ms int64) []byte {
	msg := `{"attachments":[{"payload":` + payload + `,"type":` + q(typ) + `}],"msg_id":` + q(msgID) + `}`
	return []byte(`{"app_id":` + q(e.AppID) + `,"sender":{"id":` + q(e.OAID) + `},"user_id_by_app":"5530194475361094020","recipient":{"id":` + q(user) +
		`},"event_name":` + q(event) + `,"message":` + msg + `,"timestamp":` + ts(ms) + `}`)
}
