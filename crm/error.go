package crm

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. Adapters map them to their own answers
// (HTTP status, Slack ephemeral text, chat reply).
const (
	ECONFLICT    = "conflict"
	EINTERNAL    = "internal"
	EINVALID     = "invalid"
	ENOTFOUND    = "not_found"
	EFORBIDDEN   = "forbidden"
	EUNAVAILABLE = "unavailable"
)

// Error is the domain error: a machine-readable code and a message a user may read.
type Error struct {
	Code    string
	Message string
	// Phrase, when set, names the message for adapters that speak the
	// reader's language (i18n catalogs: "customer_not_found"), with the
	// arguments it is printed with; Message stays the English text.
	Phrase string
	Args   []any
}

// Say names the error's message for translation (Error.Phrase) and
// returns e.
func (e *Error) Say(phrase string, args ...any) *Error {
	e.Phrase, e.Args = phrase, args
	return e
}

// ErrorPhrase returns the phrase and arguments of the domain error in
// err's chain, "" when it has none.
func ErrorPhrase(err error) (string, []any) {
	var e *Error
	if errors.As(err, &e) {
		return e.Phrase, e.Args
	}
	return "", nil
}

func (e *Error) Error() string {
	return fmt.Sprintf("crm error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns a domain error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the domain error in err's chain, EINTERNAL for
// any other error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-readable message of a domain error, and a
// generic text for internal errors, so internals never leak to users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
