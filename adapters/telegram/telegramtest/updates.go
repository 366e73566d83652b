package telegramtest

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// User is a Telegram user who writes to the bot.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
}

func (u User) json() map[string]any {
	m := map[string]any{"id": u.ID, "is_bot": false, "first_name": u.FirstName}
	if u.LastName != "" {
		m["last_name"] = u.LastName
	}
	if u.Username != "" {
		m["username"] = u.Username
	}
	if u.LanguageCode != "" {
		m["language_code"] = u.LanguageCode
	}
	return m
}

func (u User) privateChat() map[string]any {
	m := map[string]any{"id": u.ID, "first_name": u.FirstName, "type": "private"}
	if u.LastName != "" {
		m["last_name"] = u.LastName
	}
	if u.Username != "" {
		m["username"] = u.Username
	}
	return m
}

// Ref names a pushed update and the message it carries.
type Ref struct {
	UpdateID  int64
	MessageID int
	ChatID    int64
	QueryID   string // callback query id
}

func (s *Server) newMessageID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextMessageID
	s.nextMessageID++
	return id
}

// entities returns what official clients attach to a text: a bot_command
// entity for a leading /command, offsets in UTF-16 code units.
func entities(text string) []map[string]any {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	cmd, _, _ := strings.Cut(text, " ")
	cmd, _, _ = strings.Cut(cmd, "\n")
	return []map[string]any{{"offset": 0, "length": len(utf16.Encode([]rune(cmd))), "type": "bot_command"}}
}

func (s *Server) message(from User, chat map[string]any, text string) (map[string]any, int) {
	id := s.newMessageID()
	m := map[string]any{
		"message_id": id,
		"from":       from.json(),
		"chat":       chat,
		"date":       time.Now().Unix(),
	}
	if text != "" {
		m["text"] = text
		if e := entities(text); e != nil {
			m["entities"] = e
		}
	}
	return m, id
}

// UserText pushes a private text message from u, with the bot_command
// entity a client adds when the text starts with a command.
func (s *Server) UserText(u User, text string) Ref {
	m, id := s.message(u, u.privateChat(), text)
	return Ref{UpdateID: s.pushKind("message", m), MessageID: id, ChatID: u.ID}
}

// GroupText pushes a text message from u in a supergroup.
func (s *Server) GroupText(u User, groupID int64, text string) Ref {
	m, id := s.message(u, map[string]any{"id": groupID, "title": "Shop fans", "type": "supergroup"}, text)
	return Ref{UpdateID: s.pushKind("message", m), MessageID: id, ChatID: groupID}
}

// UserContact pushes a contact shared by u in the private chat; self makes
// it u's own number, as the request_contact button sends it.
func (s *Server) UserContact(u User, phone string, self bool) Ref {
	m, id := s.message(u, u.privateChat(), "")
	c := map[string]any{"phone_number": phone, "first_name": u.FirstName}
	if u.LastName != "" {
		c["last_name"] = u.LastName
	}
	if self {
		c["user_id"] = u.ID
	}
	m["contact"] = c
	return Ref{UpdateID: s.pushKind("message", m), MessageID: id, ChatID: u.ID}
}

// UserPhoto pushes a photo sent by u in the private chat.
func (s *Server) UserPhoto(u User) Ref {
	m, id := s.message(u, u.privateChat(), "")
	m["photo"] = []map[string]any{
		{"file_id": "AgACAgIAAxkBAAIB", "file_unique_id": "AQADs", "file_size": 1253, "width": 90, "height": 67},
		{"file_id": "AgACAgIAAxkBAAIC", "file_unique_id": "AQADt", "file_size": 48311, "width": 800, "height": 600},
	}
	return Ref{UpdateID: s.pushKind("message", m), MessageID: id, ChatID: u.ID}
}

// EditText pushes an edit of u's message messageID to text.
func (s *Server) EditText(u User, messageID int, text string) Ref {
	now := time.Now().Unix()
	m := map[string]any{
		"message_id": messageID,
		"from":       u.json(),
		"chat":       u.privateChat(),
		"date":       now - 5,
		"edit_date":  now,
		"text":       text,
	}
	return Ref{UpdateID: s.pushKind("edited_message", m), MessageID: messageID, ChatID: u.ID}
}

// PressButton pushes a callback query: u pressed an inline button carrying
// data under a message the bot sent in the private chat.
func (s *Server) PressButton(u User, data string) Ref {
	botMsgID := s.newMessageID()
	qid := "438200000000" + strconv.Itoa(botMsgID)
	q := map[string]any{
		"id":   qid,
		"from": u.json(),
		"message": map[string]any{
			"message_id": botMsgID,
			"from":       map[string]any{"id": s.BotID, "is_bot": true, "first_name": "IDIC Test", "username": s.BotUsername},
			"chat":       u.privateChat(),
			"date":       time.Now().Unix() - 10,
			"text":       "Ưu đãi cho bạn",
		},
		"chat_instance": "-5423874650913",
		"data":          data,
	}
	return Ref{UpdateID: s.pushKind("callback_query", q), MessageID: botMsgID, ChatID: u.ID, QueryID: qid}
}
