package telegram

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// toInbound maps an update to the core's Inbound. ok is false for updates
// the core does not see (group chatter, service messages, unknown types).
// queryID is the callback query to answer once the update is handled.
//
// MessageID is stable across redelivery of the same event, so the core's
// dedupe catches it: "m:<chat>:<message>" for a message, "e:<chat>:<message>:
// <edit_date>" for an edit, "c:<callback query id>" for a button press.
func toInbound(u *models.Update, me botIdentity, now func() time.Time) (in bot.Inbound, ok bool, queryID string) {
	switch {
	case u.Message != nil:
		return messageInbound(u.Message, false, me)
	case u.EditedMessage != nil:
		return messageInbound(u.EditedMessage, true, me)
	case u.ChannelPost != nil:
		return messageInbound(u.ChannelPost, false, me)
	case u.CallbackQuery != nil:
		return callbackInbound(u.CallbackQuery, now)
	}
	return bot.Inbound{}, false, ""
}

func callbackInbound(q *models.CallbackQuery, now func() time.Time) (bot.Inbound, bool, string) {
	chatID := q.From.ID
	switch {
	case q.Message.Message != nil:
		chatID = q.Message.Message.Chat.ID
	case q.Message.InaccessibleMessage != nil && q.Message.InaccessibleMessage.Chat.ID != 0:
		chatID = q.Message.InaccessibleMessage.Chat.ID
	}
	if q.Data == "" || q.From.ID == 0 {
		// A game button or an inline-mode message: nothing for the core,
		// but the query is still answered.
		return bot.Inbound{}, false, q.ID
	}
	in := bot.Inbound{
		Channel:   crm.ChannelTelegram,
		UserID:    strconv.FormatInt(q.From.ID, 10),
		ChatID:    strconv.FormatInt(chatID, 10),
		MessageID: "c:" + q.ID,
		Time:      now(),
		Kind:      crm.KindButton,
		Payload:   q.Data,
		Locale:    q.From.LanguageCode,
		Name:      fullName(q.From.FirstName, q.From.LastName),
		Username:  q.From.Username,
	}
	return in, true, q.ID
}

func messageInbound(m *models.Message, edited bool, me botIdentity) (bot.Inbound, bool, string) {
	chatID := strconv.FormatInt(m.Chat.ID, 10)
	msgKey := "m:" + chatID + ":" + strconv.Itoa(m.ID)
	in := bot.Inbound{
		Channel:   crm.ChannelTelegram,
		ChatID:    chatID,
		MessageID: msgKey,
		Time:      time.Unix(int64(m.Date), 0).UTC(),
	}
	switch {
	case m.From != nil:
		in.UserID = strconv.FormatInt(m.From.ID, 10)
		in.Locale = m.From.LanguageCode
		in.Name = fullName(m.From.FirstName, m.From.LastName)
		in.Username = m.From.Username
	case m.SenderChat != nil: // a channel post or an anonymous group admin
		in.UserID = strconv.FormatInt(m.SenderChat.ID, 10)
		in.Name = m.SenderChat.Title
		in.Username = m.SenderChat.Username
	default:
		return bot.Inbound{}, false, ""
	}
	if edited {
		in.EditOf = msgKey
		in.MessageID = "e:" + chatID + ":" + strconv.Itoa(m.ID) + ":" + strconv.Itoa(m.EditDate)
		if m.EditDate != 0 {
			in.Time = time.Unix(int64(m.EditDate), 0).UTC()
		}
	}

	text := m.Text
	cmd, arg, addressed := parseCommand(text, me.username)
	private := m.Chat.Type == models.ChatTypePrivate
	if !private {
		// Groups and channels are not customer conversations: only what is
		// addressed to the bot gets through.
		if !addressed && !mentions(m, me) {
			return bot.Inbound{}, false, ""
		}
	}

	switch {
	case m.Contact != nil:
		in.Kind = crm.KindContact
		c := m.Contact
		self := c.UserID != 0 && m.From != nil && c.UserID == m.From.ID
		phone := c.PhoneNumber
		if self && phone != "" && allDigits(phone) {
			// Telegram sends the user's own number in international form
			// without the '+'; adding it keeps non-Vietnamese numbers right.
			phone = "+" + phone
		}
		in.Contact = &bot.Contact{Phone: phone, FirstName: c.FirstName, LastName: c.LastName, Self: self}
	case text != "":
		in.Kind = crm.KindText
		in.Text = text
		if cmd != "" && !edited {
			in.Kind = crm.KindCommand
			in.Command = cmd
			in.Text = arg
			if cmd == "start" && validStartPayload(arg) {
				in.Source = arg
			}
		}
	case len(m.Photo) > 0:
		in.Kind = crm.KindPhoto
	case m.Sticker != nil:
		in.Kind = crm.KindSticker
	case m.Voice != nil || m.VideoNote != nil:
		in.Kind = crm.KindVoice
	case m.Document != nil || m.Video != nil || m.Audio != nil || m.Animation != nil:
		in.Kind = crm.KindFile
	case isServiceMessage(m):
		return bot.Inbound{}, false, ""
	default: // location, venue, poll, dice, game …
		in.Kind = crm.KindOther
	}
	if in.Kind != crm.KindText && in.Kind != crm.KindCommand && in.Kind != crm.KindContact {
		in.Text = m.Caption // logged with the photo, file or video it describes
	}
	in.Text = truncate(in.Text, bot.MaxTextLen)
	return in, true, ""
}

// truncate cuts s to at most n runes. Telegram allows texts of 4096 UTF-16
// units, a little more than the core takes; the core would refuse the whole
// message, so the customer's last words are cut instead.
func truncate(s string, n int) string {
	if len(s) <= n { // bytes ≥ runes
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// isServiceMessage reports messages Telegram generates about the chat itself
// (members joining, title changes, pins …), which no customer wrote.
func isServiceMessage(m *models.Message) bool {
	return len(m.NewChatMembers) > 0 || m.LeftChatMember != nil || m.NewChatTitle != "" ||
		len(m.NewChatPhoto) > 0 || m.DeleteChatPhoto || m.GroupChatCreated || m.SupergroupChatCreated ||
		m.ChannelChatCreated || m.MigrateToChatID != 0 || m.MigrateFromChatID != 0 ||
		m.PinnedMessage != nil || m.MessageAutoDeleteTimerChanged != nil || m.WriteAccessAllowed != nil ||
		m.ForumTopicCreated != nil || m.ForumTopicEdited != nil || m.ForumTopicClosed != nil ||
		m.ForumTopicReopened != nil || m.VoiceChatStarted != nil || m.VoiceChatEnded != nil ||
		m.VoiceChatScheduled != nil || m.VoiceChatParticipantsInvited != nil || m.BoostAdded != nil ||
		m.ChatBackgroundSet != nil || m.UsersShared != nil || m.ChatShared != nil
}

// parseCommand recognises a bot command at the start of text: "/start",
// "/start@botname", "/start CODE", with or without a bot_command entity
// (clients do not always send one, and the library's matchers need it).
// addressed reports that the command is for this bot: it names no bot or
// names this one. A command for another bot is not a command here.
func parseCommand(text, username string) (cmd, arg string, addressed bool) {
	t := strings.TrimLeftFunc(text, unicode.IsSpace)
	if !strings.HasPrefix(t, "/") {
		return "", "", false
	}
	head, rest := t, ""
	if i := strings.IndexFunc(t, unicode.IsSpace); i >= 0 {
		head, rest = t[:i], t[i:]
	}
	name, target, hasTarget := strings.Cut(head[1:], "@")
	if name == "" || len(name) > 32 {
		return "", "", false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "", "", false
		}
	}
	if hasTarget && (username == "" || !strings.EqualFold(target, username)) {
		return "", "", false
	}
	return strings.ToLower(name), strings.TrimSpace(rest), true
}

// validStartPayload reports a deep-link code as t.me/<bot>?start=<code>
// carries it: 1-64 characters of A-Z, a-z, 0-9, _ and -.
func validStartPayload(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// mentions reports that a group message speaks to the bot: it mentions
// @botusername (as text or as a mention entity), mentions the bot by a
// text_mention, or replies to one of the bot's messages.
func mentions(m *models.Message, me botIdentity) bool {
	if me.username != "" {
		at := "@" + strings.ToLower(me.username)
		text := strings.ToLower(m.Text)
		for i := strings.Index(text, at); i >= 0; {
			end := i + len(at)
			if end == len(text) || !isUsernameByte(text[end]) {
				return true
			}
			j := strings.Index(text[end:], at)
			if j < 0 {
				break
			}
			i = end + j
		}
		for _, e := range m.Entities {
			if e.Type == models.MessageEntityTypeMention && strings.EqualFold(entityText(m.Text, e), "@"+me.username) {
				return true
			}
		}
	}
	for _, e := range m.Entities {
		if e.Type == models.MessageEntityTypeTextMention && e.User != nil && me.id != 0 && e.User.ID == me.id {
			return true
		}
	}
	if r := m.ReplyToMessage; r != nil && r.From != nil && me.id != 0 && r.From.ID == me.id {
		return true
	}
	return false
}

func isUsernameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_'
}

// entityText slices text by an entity's offsets, which count UTF-16 code units.
func entityText(text string, e models.MessageEntity) string {
	u := utf16.Encode([]rune(text))
	if e.Offset < 0 || e.Length < 0 || e.Offset > len(u) || e.Length > len(u)-e.Offset { // no overflow
		return ""
	}
	return string(utf16.Decode(u[e.Offset : e.Offset+e.Length]))
}

func fullName(first, last string) string {
	return strings.TrimSpace(first + " " + last)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// chatOf is the key that orders an update's handling: updates of one chat
// are handled one after another.
func chatOf(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.EditedMessage != nil:
		return u.EditedMessage.Chat.ID
	case u.ChannelPost != nil:
		return u.ChannelPost.Chat.ID
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		if q.Message.Message != nil {
			return q.Message.Message.Chat.ID
		}
		if q.Message.InaccessibleMessage != nil && q.Message.InaccessibleMessage.Chat.ID != 0 {
			return q.Message.InaccessibleMessage.Chat.ID
		}
		return q.From.ID
	}
	return 0
}
