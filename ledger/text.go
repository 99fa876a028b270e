package ledger

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Term is a message key given as an argument of another message: the
// catalogue translates it into the message's language ("field.reason" is
// 原因 in Chinese and reason in English).
type Term string

// Text is the rule for one free-text field that comes from outside: a name,
// a login, a place, a reason, a donor, a note. Every such field goes through
// Text.Clean before it reaches a rule or a file, so that what one field
// refuses, every field refuses, with the same clear message.
type Text struct {
	// Field names the field in messages, as a message key ("field.reason").
	Field Term
	// Key is the field's own message for a value that is empty (when
	// Required) or longer than Max; it takes Max as its argument when it has
	// a verb.
	Key string
	// Max is the most characters (not bytes) the field holds.
	Max int
	// Required refuses an empty value.
	Required bool
	// Multiline lets the value hold line breaks (a description); CR LF and
	// CR become LF.
	Multiline bool
	// Formula lets the value start as a spreadsheet formula would (= + - @).
	// Names and reasons go into exports, where such text would be run, so
	// most fields leave this false; exports neutralise such cells anyway.
	Formula bool
}

// Clean trims s and checks it against the rule. It refuses, never silently
// replaces: invalid UTF-8, control characters (NUL, tabs, line breaks where
// they are not allowed), bidirectional overrides and isolates (which make
// text read differently from what it holds), byte order marks and
// zero-width spaces, an empty value that is required, more than Max
// characters, and text a spreadsheet would take for a formula.
func (r Text) Clean(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(EINVALID, "text.not_utf8", r.Field)
	}
	if r.Multiline {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	s = strings.TrimFunc(s, unicode.IsSpace)
	for _, c := range s {
		switch {
		case c == '\n' && r.Multiline:
		case unicode.IsControl(c):
			return "", Errorf(EINVALID, "text.control", r.Field)
		case isBidiControl(c):
			return "", Errorf(EINVALID, "text.bidi", r.Field)
		case isInvisible(c):
			return "", Errorf(EINVALID, "text.invisible", r.Field)
		}
	}
	n := utf8.RuneCountInString(s)
	if (r.Required && n == 0) || n > r.Max {
		// Max fills the message's verb, for a message that has one.
		return "", Errorf(EINVALID, r.Key, r.Max)
	}
	if !r.Formula && LooksLikeFormula(s) {
		return "", Errorf(EINVALID, "text.formula", Clip(s))
	}
	return s, nil
}

// isBidiControl reports the characters that change the direction text is
// shown in: the embeddings and overrides (U+202A–U+202E), the isolates
// (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C).
func isBidiControl(c rune) bool {
	return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C
}

// isInvisible reports characters that show nothing and mean nothing in the
// text aixin keeps: the byte order mark, the zero-width space and the word
// joiner. (The zero-width joiners U+200C and U+200D stay allowed inside
// text: emoji sequences need them.)
func isInvisible(c rune) bool { return c == 0xFEFF || c == 0x200B || c == 0x2060 }

// LooksLikeFormula reports whether a spreadsheet would take s for a formula:
// it starts with = + - @, perhaps after spaces, tabs, line breaks, a byte
// order mark or zero-width characters, which a spreadsheet skips or does
// not show.
func LooksLikeFormula(s string) bool {
	s = strings.TrimLeftFunc(s, func(c rune) bool {
		return unicode.IsSpace(c) || isInvisible(c) || c == 0x200C || c == 0x200D || isBidiControl(c)
	})
	return s != "" && strings.ContainsRune("=+-@", rune(s[0]))
}

// The rules of the free-text fields that several rules share.
var (
	// Reason is a reason a person gives for a back-fill, a close, a review,
	// a correction or a reversal: 1 to 200 characters.
	Reason = Text{Field: "field.reason", Key: "attendance.reason_required", Max: 200, Required: true}
	// StockText is the donor or note of a stock movement: up to 200 characters.
	StockText = Text{Field: "field.stock_text", Key: "stock.text_invalid", Max: 200}
)

// Patterns of personal data that text shown in public must not hold: a
// mobile number (spaces or dashes between its digits or not), a landline
// with its area code, an identity card number, a door (502室). Digits are
// compared after full-width ones are read as ASCII.
var (
	publicMobile   = regexp.MustCompile(`(^|[^0-9])1[3-9](?:[ \-]?[0-9]){9}($|[^0-9])`)
	publicLandline = regexp.MustCompile(`(^|[^0-9])0[1-9][0-9]{1,2}[ \-]?[0-9]{7,8}($|[^0-9])`)
	publicIDCard   = regexp.MustCompile(`(^|[^0-9])[1-9][0-9]{16}[0-9Xx]($|[^0-9])|(^|[^0-9])[1-9][0-9]{14}($|[^0-9])`)
	publicDoor     = regexp.MustCompile(`[0-9]+ *(室|号房)`)
)

// CheckPublic refuses text that goes onto a public page (a wish on the
// wish wall) when it holds a phone number, an identity card number or a
// door number, naming field: EINVALID "text.public_phone",
// "text.public_id" or "text.public_door". Where someone lives is shown as
// their grid or building; a resident's phone goes in its own field, which
// no public page shows.
func CheckPublic(field Term, s string) error {
	folded := strings.Map(func(r rune) rune {
		if r >= 0xFF10 && r <= 0xFF19 { // full-width digits
			return r - 0xFEE0
		}
		return r
	}, s)
	switch {
	case publicIDCard.MatchString(folded):
		return Errorf(EINVALID, "text.public_id", field)
	case publicMobile.MatchString(folded), publicLandline.MatchString(folded):
		return Errorf(EINVALID, "text.public_phone", field)
	case publicDoor.MatchString(folded):
		return Errorf(EINVALID, "text.public_door", field)
	}
	return nil
}
