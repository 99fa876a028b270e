// Package i18n holds aixin's message catalogues, Chinese and English: a
// message key and its arguments in, the text in a language out. The HTTP
// pages, the exports and the command line all translate through it.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"sync"

	"aixin/ledger"
	"aixin/static"
)

// The languages of the catalogue, as BCP 47 tags. Chinese is the default.
const (
	ZH = "zh-CN" // ZH is Chinese, the default language.
	EN = "en"    // EN is English.
)

// Languages lists the catalogue's languages in the order the pages offer
// them, each with its name in itself.
var Languages = []struct{ Code, Name string }{
	{ZH, "中文"},
	{EN, "English"},
}

// Catalogue holds the messages of every language: lang -> key -> text. A text
// may hold %v verbs, filled from the arguments in order.
type Catalogue struct {
	msgs map[string]map[string]string
}

// Load reads, for every language, i18n/<lang>.json and any
// i18n/<part>.<lang>.json (one file per area of the application, e.g.
// pages.zh-CN.json), merged into one catalogue. A key defined twice is an error.
func Load(fsys fs.FS) (*Catalogue, error) {
	c := &Catalogue{msgs: make(map[string]map[string]string)}
	for _, l := range Languages {
		parts, err := fs.Glob(fsys, "i18n/*."+l.Code+".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: catalogue: %w", err)
		}
		m := make(map[string]string)
		for _, name := range append([]string{"i18n/" + l.Code + ".json"}, parts...) {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("i18n: catalogue: %w", err)
			}
			part := make(map[string]string)
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("i18n: catalogue %s: %w", name, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("i18n: catalogue %s: key %q is defined twice", name, k)
				}
				m[k] = v
			}
		}
		c.msgs[l.Code] = m
	}
	return c, nil
}

// T returns the message key in lang, with args filling its verbs. A key
// missing in lang falls back to Chinese, then to the key itself, so that a
// missing translation never hides an error.
func (c *Catalogue) T(lang, key string, args ...any) string {
	msg, ok := c.msgs[lang][key]
	if !ok {
		if msg, ok = c.msgs[ZH][key]; !ok {
			msg = key
		}
	}
	if len(args) == 0 {
		return msg
	}
	// A message may say less than its error carries (a field's limit the
	// message does not name): only as many arguments as it has verbs.
	if n := Verbs(msg); n < len(args) {
		args = args[:n]
		if n == 0 {
			return msg
		}
	}
	msg = plural(msg, args)
	// A term (a field's name, say) is a message of its own, in the same language.
	cloned := false
	for i, a := range args {
		if term, ok := a.(ledger.Term); ok {
			if !cloned {
				args, cloned = slices.Clone(args), true
			}
			args[i] = c.T(lang, string(term))
		}
	}
	return fmt.Sprintf(msg, args...)
}

// Verbs counts the formatting verbs of a message (%v, %d, %s; %% is not one).
func Verbs(msg string) int {
	n := 0
	for i := 0; i < len(msg); i++ {
		if msg[i] == '%' {
			if i+1 < len(msg) && msg[i+1] == '%' {
				i++
				continue
			}
			n++
		}
	}
	return n
}

// Category is a service category (data: ledger.Categories, stored in
// Chinese) in lang: the catalogue's js.category.<name>, or the name itself
// for a category the catalogue does not know.
func (c *Catalogue) Category(lang, name string) string {
	if m, ok := c.msgs[lang]["js.category."+name]; ok {
		return m
	}
	return name
}

// plural chooses the forms of the plural groups of msg. A group {one|other}
// stands after a verb and takes that verb's argument: "%v {volunteer|volunteers}"
// reads "1 volunteer", "2 volunteers". The form one is for exactly 1 (a
// number, or text that is "1"); every other count takes other. Chinese
// messages need no groups. common.js's t does the same for the pages.
func plural(msg string, args []any) string {
	if !strings.Contains(msg, "{") {
		return msg
	}
	var b strings.Builder
	n := 0 // verbs seen
	for i := 0; i < len(msg); i++ {
		switch c := msg[i]; {
		case c == '%':
			b.WriteByte(c)
			if i+1 < len(msg) && msg[i+1] == '%' {
				b.WriteByte('%')
				i++
				continue
			}
			// Flags, width and precision, then the verb's letter.
			for i+1 < len(msg) && strings.IndexByte("+-# 0123456789.", msg[i+1]) >= 0 {
				i++
				b.WriteByte(msg[i])
			}
			if i+1 < len(msg) {
				i++
				b.WriteByte(msg[i])
			}
			n++
		case c == '{':
			end := strings.IndexByte(msg[i:], '}')
			one, other, ok := strings.Cut(msg[i+1:i+max(end, 1)], "|")
			if end < 0 || !ok || strings.ContainsAny(other, "{|") {
				b.WriteByte(c)
				continue
			}
			if n > 0 && n <= len(args) && isOne(args[n-1]) {
				b.WriteString(one)
			} else {
				b.WriteString(other)
			}
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isOne reports whether a count is exactly 1.
func isOne(v any) bool {
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int() == 1
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return r.Uint() == 1
	case reflect.Float32, reflect.Float64:
		return r.Float() == 1
	case reflect.String:
		return strings.TrimSpace(r.String()) == "1"
	}
	return false
}

// WithPrefix returns the messages of lang whose keys start with one of the
// prefixes, for scripts that format messages themselves.
func (c *Catalogue) WithPrefix(lang string, prefixes ...string) map[string]string {
	out := make(map[string]string)
	for k, v := range c.msgs[lang] {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				out[k] = v
			}
		}
	}
	return out
}

// Lookup returns the message key in lang as it is written, unformatted,
// and whether lang has it (no fallback).
func (c *Catalogue) Lookup(lang, key string) (string, bool) {
	msg, ok := c.msgs[lang][key]
	return msg, ok
}

// Embedded returns the catalogue of the embedded static files, read once.
var Embedded = sync.OnceValues(func() (*Catalogue, error) { return Load(static.FS) })

// Message is the message key in lang from the embedded catalogue, or the key
// itself if the catalogue cannot be read: the command line's error text.
func Message(lang, key string, args ...any) string {
	c, err := Embedded()
	if err != nil {
		return key
	}
	return c.T(lang, key, args...)
}
