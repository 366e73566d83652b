package telegram

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// updateSeeds are updates as the Bot API sends them (getUpdates results and
// webhook bodies), and broken ones.
var updateSeeds = []string{
	`{"update_id":10001,"message":{"message_id":42,"from":{"id":700000001,"is_bot":false,"first_name":"Lan","last_name":"Nguyễn","username":"lan_shop","language_code":"vi"},"chat":{"id":700000001,"first_name":"Lan","type":"private"},"date":1764489600,"text":"giá iphone 15 bao nhiêu ạ?"}}`,
	`{"update_id":10002,"message":{"message_id":43,"from":{"id":700000001,"is_bot":false,"first_name":"Lan"},"chat":{"id":700000001,"type":"private"},"date":1764489601,"text":"/start promo_tet-2026","entities":[{"offset":0,"length":6,"type":"bot_command"}]}}`,
	`{"update_id":10003,"message":{"message_id":44,"from":{"id":700000002,"is_bot":false,"first_name":"Ánh"},"chat":{"id":-1001234567890,"title":"Nhóm","type":"supergroup"},"date":1764489602,"text":"@idic_bot còn hàng không","entities":[{"offset":0,"length":9,"type":"mention"}]}}`,
	`{"update_id":10004,"message":{"message_id":45,"from":{"id":700000001,"is_bot":false,"first_name":"Lan"},"chat":{"id":700000001,"type":"private"},"date":1764489603,"contact":{"phone_number":"84912345678","first_name":"Lan","user_id":700000001}}}`,
	`{"update_id":10005,"message":{"message_id":46,"from":{"id":700000003,"is_bot":false,"first_name":"Mallory"},"chat":{"id":700000003,"type":"private"},"date":1764489604,"contact":{"phone_number":"+84912345678","first_name":"Lan","user_id":700000001}}}`,
	`{"update_id":10006,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":700000001,"is_bot":false,"first_name":"Lan"},"message":{"message_id":47,"from":{"id":777,"is_bot":true,"first_name":"Shop"},"chat":{"id":700000001,"type":"private"},"date":1764489605,"text":"Ưu đãi"},"chat_instance":"-1","data":"offer:welcome:accept"}}`,
	`{"update_id":10007,"edited_message":{"message_id":42,"from":{"id":700000001,"is_bot":false,"first_name":"Lan"},"chat":{"id":700000001,"type":"private"},"date":1764489600,"edit_date":1764489700,"text":"giá iphone 16"}}`,
	`{"update_id":10008,"message":{"message_id":48,"from":{"id":700000001,"is_bot":false,"first_name":"Lan"},"chat":{"id":700000001,"type":"private"},"date":1764489606,"photo":[{"file_id":"AgAD","file_unique_id":"u","width":90,"height":90}],"caption":"mẫu này còn không"}}`,
	`{"update_id":10009,"message":{"message_id":49,"from":{"id":700000001,"is_bot":false,"first_name":"Lan"},"chat":{"id":-100,"type":"group"},"date":1764489607,"new_chat_members":[{"id":777,"is_bot":true,"first_name":"Shop"}]}}`,
	`{"update_id":10010,"channel_post":{"message_id":50,"sender_chat":{"id":-1009,"title":"Kênh","type":"channel"},"chat":{"id":-1009,"title":"Kênh","type":"channel"},"date":1764489608,"text":"/help@idic_bot"}}`,
	`{"update_id":10011,"message":{"message_id":51,"from":{"id":700000002,"first_name":"Ánh"},"chat":{"id":-100,"type":"group"},"date":1,"text":"xin chào","entities":[{"offset":9223372036854775800,"length":100,"type":"mention"},{"offset":0,"length":2,"type":"text_mention","user":{"id":777,"first_name":"Shop"}}]}}`,
	`{"update_id":10012,"message":{"message_id":52,"from":{"id":700000002,"first_name":"Ánh"},"chat":{"id":-100,"type":"group"},"date":1,"text":"ok","reply_to_message":{"message_id":1,"from":{"id":777,"is_bot":true,"first_name":"Shop"},"chat":{"id":-100,"type":"group"},"date":1,"text":"?"}}}`,
	`{"update_id":10013,"callback_query":{"id":"q","from":{"id":1,"first_name":"x"},"message":{"message_id":0,"chat":{"id":5,"type":"private"},"date":0},"chat_instance":"1","data":"\u0000\ud800"}}`,
	`{"update_id":1,"message":{"message_id":1,"from":{"id":1,"first_name":"\u0000"},"chat":{"id":1,"type":"private"},"date":-1,"text":"` + strings.Repeat("ư", 5000) + `"}}`,
	`{"update_id":0}`, `{"update_id":-1,"message":{}}`, `{"update_id":1}`, `{"update_id":1,"message":null}`, `{"update_id":1,"message":{"chat":{}}}`,
	`{"update_id":9223372036854775807,"message":{"message_id":9223372036854775807,"from":{"id":-9223372036854775808},"chat":{"id":1,"type":"private"},"text":"/x"}}`,
	`{"update_id":1.5}`, `{"update_id":"1"}`, `{"update_id":1,"update_id":2}`, `[]`, `null`, ``, "\x00", "{\"update_id\":1,\"message\":{\"text\":\"\xff\"}}",
}

// FuzzParseUpdate: any body either is refused or becomes an update; an
// update the core sees has a sender, a chat, a stable message id, a text
// within MaxTextLen, a valid command, and a contact marked as the sender's
// own only when its user id is the sender's.
func FuzzParseUpdate(f *testing.F) {
	for _, s := range updateSeeds {
		f.Add([]byte(s))
	}
	me := botIdentity{id: 777, username: "idic_bot"}
	now := func() time.Time { return time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC) }
	f.Fuzz(func(t *testing.T, body []byte) {
		u, ok := parseUpdate(body)
		if !ok {
			return
		}
		if u.ID <= 0 {
			t.Fatalf("update id %d accepted", u.ID)
		}
		_ = chatOf(u)
		in, ok, _ := toInbound(u, me, now)
		if !ok {
			return
		}
		switch {
		case in.Channel != crm.ChannelTelegram, in.UserID == "", in.ChatID == "", in.MessageID == "", in.Kind == "",
			utf8.RuneCountInString(in.Text) > bot.MaxTextLen:
			t.Fatalf("inbound %+v", in)
		case in.Kind == crm.KindCommand && (in.Command == "" || len(in.Command) > 32 || strings.Trim(in.Command, "abcdefghijklmnopqrstuvwxyz0123456789_") != ""):
			t.Fatalf("command %q", in.Command)
		case in.Source != "" && !validStartPayload(in.Source):
			t.Fatalf("start payload %q", in.Source)
		}
		if c := in.Contact; c != nil && c.Self {
			m := u.Message
			if m == nil {
				m = u.EditedMessage
			}
			if m == nil || m.Contact == nil || m.From == nil || in.UserID != strconv.FormatInt(m.Contact.UserID, 10) {
				t.Fatalf("a contact is the sender's own, but it is %+v from %+v", m.Contact, m.From)
			}
		}
		again, _, _ := toInbound(u, me, now)
		if again.MessageID != in.MessageID {
			t.Fatalf("message id not stable: %q, %q", in.MessageID, again.MessageID)
		}
	})
}
