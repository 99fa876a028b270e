package ledger

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. A code says what kind of failure happened; the HTTP layer maps
// each to one status in one table.
const (
	EINVALID      = "invalid"      // the request is malformed or breaks a rule of its own
	EREJECTED     = "rejected"     // a well-formed batch (e.g. a roster) with invalid items; nothing was done
	ENOTFOUND     = "not_found"    // the object does not exist, or is outside the caller's scope
	ECONFLICT     = "conflict"     // the request conflicts with the current state (balance, replay, duplicate)
	EGONE         = "gone"         // the object existed but can no longer be used (expired, cancelled)
	EFORBIDDEN    = "forbidden"    // the caller may not do this
	EUNAUTHORIZED = "unauthorized" // the caller is not logged in or the credentials are wrong
	ETOOMANY      = "too_many"     // rate limited
	ETOOLARGE     = "too_large"    // the request body is too large
	EUNAVAILABLE  = "unavailable"  // the service cannot take writes now (disk full, shutting down)
	EINTERNAL     = "internal"     // anything else; details are logged, never shown
)

// Error is the one error type of aixin's domain. Key names a message in the
// zh-CN / en catalogue (static/i18n); Args fill its %v verbs. Both are safe to
// show to a user. Anything that is not an *Error becomes EINTERNAL at the edge.
type Error struct {
	Code string
	Key  string
	Args []any
	// Fields optionally carries extra, machine-readable detail for the client,
	// e.g. the seq of an earlier result. Safe to show.
	Fields map[string]any
}

// Errorf returns an *Error with the code, message key and arguments.
func Errorf(code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// Error implements error. The text is for logs; users see the translated Key.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	b.WriteString(": ")
	b.WriteString(e.Key)
	for _, a := range e.Args {
		fmt.Fprintf(&b, " %v", a)
	}
	return b.String()
}

// With returns a copy of e with one more field of detail.
func (e *Error) With(name string, value any) *Error {
	c := *e
	c.Fields = make(map[string]any, len(e.Fields)+1)
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	c.Fields[name] = value
	return &c
}

// ErrorCode returns the code of err if it is or wraps an *Error, else EINTERNAL.
// A nil error has no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
