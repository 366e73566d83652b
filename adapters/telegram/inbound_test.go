package telegram

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Updates shaped as the Bot API documentation shows them.
const (
	updPrivateText = `{"update_id":10000,"message":{"message_id":1365,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan","last_name":"Nguyễn","username":"lan_ng","language_code":"vi"},
		"chat":{"id":1111111,"first_name":"Lan","last_name":"Nguyễn","username":"lan_ng","type":"private"},
		"date":1441645532,"text":"Cho mình hỏi giá áo thun"}}`
	updStartEntity = `{"update_id":10001,"message":{"message_id":1366,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan","language_code":"vi"},
		"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645532,"text":"/start","entities":[{"offset":0,"length":6,"type":"bot_command"}]}}`
	updStartNoEntity = `{"update_id":10002,"message":{"message_id":1367,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan","language_code":"vi"},
		"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645532,"text":"/start"}}`
	updStartAtBot = `{"update_id":10003,"message":{"message_id":1368,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan","language_code":"vi"},
		"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645532,"text":"/start@IDIC_test_bot","entities":[{"offset":0,"length":20,"type":"bot_command"}]}}`
	updStartPayload = `{"update_id":10004,"message":{"message_id":1369,
		"from":{"id":2222222,"is_bot":false,"first_name":"John","last_name":"Doe","username":"jdoe","language_code":"en"},
		"chat":{"id":2222222,"first_name":"John","last_name":"Doe","username":"jdoe","type":"private"},
		"date":1441645540,"text":"/start fb_ad-42","entities":[{"offset":0,"length":6,"type":"bot_command"}]}}`
	updStartOtherBot = `{"update_id":10005,"message":{"message_id":1370,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},
		"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645532,"text":"/start@other_bot","entities":[{"offset":0,"length":16,"type":"bot_command"}]}}`
	updContactSelf = `{"update_id":10006,"message":{"message_id":1371,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan","language_code":"vi"},
		"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645550,
		"contact":{"phone_number":"84912345678","first_name":"Lan","last_name":"Nguyễn","user_id":1111111}}}`
	updContactOther = `{"update_id":10007,"message":{"message_id":1372,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},
		"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645551,
		"contact":{"phone_number":"0987654321","first_name":"Mẹ"}}}`
	updCallback = `{"update_id":10008,"callback_query":{"id":"4382bfdwdsb323b2d9",
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan","language_code":"vi"},
		"message":{"message_id":1400,"from":{"id":123456789,"is_bot":true,"first_name":"IDIC","username":"idic_test_bot"},
			"chat":{"id":1111111,"first_name":"Lan","type":"private"},"date":1441645560,"text":"Giảm 10% hôm nay",
			"reply_markup":{"inline_keyboard":[[{"text":"Nhận ưu đãi","callback_data":"offer:o1:accept"}]]}},
		"chat_instance":"-5423874650913","data":"offer:o1:accept"}}`
	updEdited = `{"update_id":10009,"edited_message":{"message_id":1365,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan","language_code":"vi"},
		"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645532,"edit_date":1441645600,"text":"Cho mình hỏi giá áo sơ mi"}}`
	updGroup = `{"update_id":10010,"message":{"message_id":55,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},
		"chat":{"id":-1001234567890,"title":"Hội mê áo","type":"supergroup"},
		"date":1441645570,"text":"Ai mua áo chưa?"}}`
	updGroupMention = `{"update_id":10011,"message":{"message_id":56,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan","language_code":"vi"},
		"chat":{"id":-1001234567890,"title":"Hội mê áo","type":"supergroup"},
		"date":1441645571,"text":"@idic_test_bot giá áo?","entities":[{"offset":0,"length":14,"type":"mention"}]}}`
	updGroupCommand = `{"update_id":10012,"message":{"message_id":57,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},
		"chat":{"id":-4001234567,"title":"Nhóm bạn","type":"group"},
		"date":1441645572,"text":"/help@idic_test_bot","entities":[{"offset":0,"length":19,"type":"bot_command"}]}}`
	updGroupOtherCommand = `{"update_id":10013,"message":{"message_id":58,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},
		"chat":{"id":-4001234567,"title":"Nhóm bạn","type":"group"},
		"date":1441645573,"text":"/help@other_bot","entities":[{"offset":0,"length":15,"type":"bot_command"}]}}`
	updPhoto = `{"update_id":10014,"message":{"message_id":1380,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan","language_code":"vi"},
		"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645580,
		"photo":[{"file_id":"AgACAgIAAxkBAAIB","file_unique_id":"AQADs","file_size":1253,"width":90,"height":67},
			{"file_id":"AgACAgIAAxkBAAIC","file_unique_id":"AQADt","file_size":48311,"width":800,"height":600}],
		"caption":"mẫu này còn không?"}}`
	updSticker = `{"update_id":10015,"message":{"message_id":1381,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645581,"sticker":{"file_id":"CAACAgIAAxkBAAIC","file_unique_id":"AgADx","type":"regular","width":512,"height":512,"is_animated":false,"is_video":false,"emoji":"👍"}}}`
	updVoice = `{"update_id":10016,"message":{"message_id":1382,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645582,"voice":{"file_id":"AwACAgIAAxkBAAID","file_unique_id":"AgADy","duration":3,"mime_type":"audio/ogg"}}}`
	updDocument = `{"update_id":10017,"message":{"message_id":1383,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645583,"document":{"file_id":"BQACAgIAAxkBAAIE","file_unique_id":"AgADz","file_name":"don-hang.pdf","mime_type":"application/pdf"}}}`
	updLocation = `{"update_id":10018,"message":{"message_id":1384,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645584,"location":{"latitude":10.776889,"longitude":106.700806}}}`
	updChannelPost = `{"update_id":10019,"channel_post":{"message_id":9,
		"sender_chat":{"id":-1009876543210,"title":"Shop news","type":"channel"},
		"chat":{"id":-1009876543210,"title":"Shop news","type":"channel"},
		"date":1441645590,"text":"Sale 50%!"}}`
	updNewMember = `{"update_id":10020,"message":{"message_id":59,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},
		"chat":{"id":-1001234567890,"title":"Hội mê áo","type":"supergroup"},
		"date":1441645591,"new_chat_members":[{"id":123456789,"is_bot":true,"first_name":"IDIC","username":"idic_test_bot"}]}}`
	updStartVietnamese = `{"update_id":10021,"message":{"message_id":1385,
		"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},"chat":{"id":1111111,"first_name":"Lan","type":"private"},
		"date":1441645592,"text":"Xin chào /start"}}`
)

func decodeUpdate(tb testing.TB, raw string) *models.Update {
	tb.Helper()
	var u models.Update
	if err := json.Unmarshal([]byte(raw), &u); err != nil {
		tb.Fatalf("decode update: %v", err)
	}
	return &u
}

func TestToInbound(t *testing.T) {
	me := botIdentity{id: 123456789, username: "idic_test_bot"}
	at := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	lan := func(in bot.Inbound) bot.Inbound {
		in.Channel, in.UserID, in.ChatID = crm.ChannelTelegram, "1111111", "1111111"
		in.Name = "Lan"
		return in
	}
	tests := []struct {
		name    string
		raw     string
		want    bot.Inbound
		ignored bool
		query   string
	}{
		{name: "private text", raw: updPrivateText, want: bot.Inbound{
			Channel: crm.ChannelTelegram, UserID: "1111111", ChatID: "1111111", MessageID: "m:1111111:1365",
			Time: at(1441645532), Kind: crm.KindText, Text: "Cho mình hỏi giá áo thun", Locale: "vi",
			Name: "Lan Nguyễn", Username: "lan_ng"}},
		{name: "start with entity", raw: updStartEntity, want: lan(bot.Inbound{MessageID: "m:1111111:1366",
			Time: at(1441645532), Kind: crm.KindCommand, Command: "start", Locale: "vi"})},
		{name: "start without entity", raw: updStartNoEntity, want: lan(bot.Inbound{MessageID: "m:1111111:1367",
			Time: at(1441645532), Kind: crm.KindCommand, Command: "start", Locale: "vi"})},
		{name: "start@botname", raw: updStartAtBot, want: lan(bot.Inbound{MessageID: "m:1111111:1368",
			Time: at(1441645532), Kind: crm.KindCommand, Command: "start", Locale: "vi"})},
		{name: "start with deep-link payload", raw: updStartPayload, want: bot.Inbound{
			Channel: crm.ChannelTelegram, UserID: "2222222", ChatID: "2222222", MessageID: "m:2222222:1369",
			Time: at(1441645540), Kind: crm.KindCommand, Command: "start", Text: "fb_ad-42", Source: "fb_ad-42",
			Locale: "en", Name: "John Doe", Username: "jdoe"}},
		{name: "command for another bot is text", raw: updStartOtherBot, want: lan(bot.Inbound{MessageID: "m:1111111:1370",
			Time: at(1441645532), Kind: crm.KindText, Text: "/start@other_bot"})},
		{name: "command after text is text", raw: updStartVietnamese, want: lan(bot.Inbound{MessageID: "m:1111111:1385",
			Time: at(1441645592), Kind: crm.KindText, Text: "Xin chào /start"})},
		{name: "own contact", raw: updContactSelf, want: lan(bot.Inbound{MessageID: "m:1111111:1371",
			Time: at(1441645550), Kind: crm.KindContact, Locale: "vi",
			Contact: &bot.Contact{Phone: "+84912345678", FirstName: "Lan", LastName: "Nguyễn", Self: true}})},
		{name: "someone else's contact", raw: updContactOther, want: lan(bot.Inbound{MessageID: "m:1111111:1372",
			Time: at(1441645551), Kind: crm.KindContact,
			Contact: &bot.Contact{Phone: "0987654321", FirstName: "Mẹ"}})},
		{name: "callback query", raw: updCallback, query: "4382bfdwdsb323b2d9", want: lan(bot.Inbound{
			MessageID: "c:4382bfdwdsb323b2d9", Time: clock, Kind: crm.KindButton, Payload: "offer:o1:accept", Locale: "vi"})},
		{name: "edited message", raw: updEdited, want: lan(bot.Inbound{MessageID: "e:1111111:1365:1441645600",
			EditOf: "m:1111111:1365", Time: at(1441645600), Kind: crm.KindText, Text: "Cho mình hỏi giá áo sơ mi", Locale: "vi"})},
		{name: "group chatter ignored", raw: updGroup, ignored: true},
		{name: "group mention", raw: updGroupMention, want: bot.Inbound{
			Channel: crm.ChannelTelegram, UserID: "1111111", ChatID: "-1001234567890", MessageID: "m:-1001234567890:56",
			Time: at(1441645571), Kind: crm.KindText, Text: "@idic_test_bot giá áo?", Locale: "vi", Name: "Lan"}},
		{name: "group command for this bot", raw: updGroupCommand, want: bot.Inbound{
			Channel: crm.ChannelTelegram, UserID: "1111111", ChatID: "-4001234567", MessageID: "m:-4001234567:57",
			Time: at(1441645572), Kind: crm.KindCommand, Command: "help", Name: "Lan"}},
		{name: "group command for another bot ignored", raw: updGroupOtherCommand, ignored: true},
		{name: "group service message ignored", raw: updNewMember, ignored: true},
		{name: "channel post ignored", raw: updChannelPost, ignored: true},
		{name: "photo with its caption", raw: updPhoto, want: lan(bot.Inbound{MessageID: "m:1111111:1380",
			Time: at(1441645580), Kind: crm.KindPhoto, Text: "mẫu này còn không?", Locale: "vi"})},
		{name: "sticker", raw: updSticker, want: lan(bot.Inbound{MessageID: "m:1111111:1381",
			Time: at(1441645581), Kind: crm.KindSticker})},
		{name: "voice", raw: updVoice, want: lan(bot.Inbound{MessageID: "m:1111111:1382",
			Time: at(1441645582), Kind: crm.KindVoice})},
		{name: "document", raw: updDocument, want: lan(bot.Inbound{MessageID: "m:1111111:1383",
			Time: at(1441645583), Kind: crm.KindFile})},
		{name: "location", raw: updLocation, want: lan(bot.Inbound{MessageID: "m:1111111:1384",
			Time: at(1441645584), Kind: crm.KindOther})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, query := toInbound(decodeUpdate(t, tt.raw), me, now)
			if ok == tt.ignored {
				t.Fatalf("handled = %v, want %v (inbound %+v)", ok, !tt.ignored, got)
			}
			if query != tt.query {
				t.Fatalf("callback query to answer = %q, want %q", query, tt.query)
			}
			if tt.ignored {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("inbound\n got %+v\nwant %+v", got, tt.want)
			}
			if got.Contact != nil && !reflect.DeepEqual(*got.Contact, *tt.want.Contact) {
				t.Fatalf("contact %+v, want %+v", *got.Contact, *tt.want.Contact)
			}
		})
	}
}

// A redelivered update maps to the same MessageID, which is what makes the
// core's dedupe work; an edit gets its own id per edit.
func TestMessageIDStableAcrossRedelivery(t *testing.T) {
	me := botIdentity{id: 1, username: "idic_test_bot"}
	for _, raw := range []string{updPrivateText, updCallback, updEdited, updContactSelf} {
		a, _, _ := toInbound(decodeUpdate(t, raw), me, time.Now)
		b, _, _ := toInbound(decodeUpdate(t, raw), me, time.Now)
		if a.MessageID == "" || a.MessageID != b.MessageID {
			t.Fatalf("message ids %q and %q for the same update", a.MessageID, b.MessageID)
		}
	}
	orig, _, _ := toInbound(decodeUpdate(t, updPrivateText), me, time.Now)
	edit, _, _ := toInbound(decodeUpdate(t, updEdited), me, time.Now)
	if edit.MessageID == orig.MessageID || edit.EditOf != orig.MessageID {
		t.Fatalf("edit id %q (edit of %q), original %q", edit.MessageID, edit.EditOf, orig.MessageID)
	}
}

// TestLongTextIsCut: Telegram takes up to 4096 UTF-16 units, the core up to
// bot.MaxTextLen runes; a longer text is cut rather than refused.
func TestLongTextIsCut(t *testing.T) {
	long := strings.Repeat("ư", 4090)
	raw := `{"update_id":1,"message":{"message_id":9,"from":{"id":7,"is_bot":false,"first_name":"A"},` +
		`"chat":{"id":7,"first_name":"A","type":"private"},"date":1441645532,"text":"` + long + `"}}`
	var u models.Update
	if err := json.Unmarshal([]byte(raw), &u); err != nil {
		t.Fatal(err)
	}
	in, ok, _ := toInbound(&u, botIdentity{}, time.Now)
	if !ok || in.Text != strings.Repeat("ư", bot.MaxTextLen) {
		t.Fatalf("text of %d runes, want %d", utf8.RuneCountInString(in.Text), bot.MaxTextLen)
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text, cmd, arg string
		ok             bool
	}{
		{"/start", "start", "", true},
		{"/start@idic_test_bot", "start", "", true},
		{"/START@IDIC_TEST_BOT abc", "start", "abc", true},
		{"/start   CODE_1 ", "start", "CODE_1", true},
		{"/start\nCODE", "start", "CODE", true},
		{"  /help", "help", "", true},
		{"/start@other_bot", "", "", false},
		{"/", "", "", false},
		{"/giá", "", "", false},
		{"hello /start", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		cmd, arg, ok := parseCommand(tt.text, "idic_test_bot")
		if cmd != tt.cmd || arg != tt.arg || ok != tt.ok {
			t.Errorf("parseCommand(%q) = %q, %q, %v; want %q, %q, %v", tt.text, cmd, arg, ok, tt.cmd, tt.arg, tt.ok)
		}
	}
}
