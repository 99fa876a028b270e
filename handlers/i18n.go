package handlers

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

// The languages of the catalogue, as BCP 47 tags. Chinese is the default.
const (
	langZH = "zh-CN"
	langEN = "en"
)

// languages lists the catalogue's languages in the order the pages offer
// them, each with its name in itself.
var languages = []struct{ Code, Name string }{
	{langZH, "中文"},
	{langEN, "English"},
}

// catalogue holds the messages of every language: lang -> key -> text. A text
// may hold %v verbs, filled from the arguments in order.
type catalogue struct {
	msgs map[string]map[string]string
}

// loadCatalogue reads, for every language, i18n/<lang>.json and any
// i18n/<part>.<lang>.json (one file per area of the application, e.g.
// pages.zh-CN.json), merged into one catalogue. A key defined twice is an error.
func loadCatalogue(fsys fs.FS) (*catalogue, error) {
	c := &catalogue{msgs: make(map[string]map[string]string)}
	for _, l := range languages {
		parts, err := fs.Glob(fsys, "i18n/*."+l.Code+".json")
		if err != nil {
			return nil, fmt.Errorf("handlers: catalogue: %w", err)
		}
		m := make(map[string]string)
		for _, name := range append([]string{"i18n/" + l.Code + ".json"}, parts...) {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("handlers: catalogue: %w", err)
			}
			part := make(map[string]string)
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("handlers: catalogue %s: %w", name, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("handlers: catalogue %s: key %q is defined twice", name, k)
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
func (c *catalogue) T(lang, key string, args ...any) string {
	msg, ok := c.msgs[lang][key]
	if !ok {
		if msg, ok = c.msgs[langZH][key]; !ok {
			msg = key
		}
	}
	if len(args) == 0 {
		return msg
	}
	// A message may say less than its error carries (a field's limit the
	// message does not name): only as many arguments as it has verbs.
	if n := verbs(msg); n < len(args) {
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

// verbs counts the formatting verbs of a message (%v, %d, %s; %% is not one).
func verbs(msg string) int {
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
func (c *catalogue) Category(lang, name string) string {
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

// withPrefix returns the messages of lang whose keys start with one of the
// prefixes, for scripts that format messages themselves.
func (c *catalogue) withPrefix(lang string, prefixes ...string) map[string]string {
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

// lang returns the language for the request: the ?lang= parameter if it
// names a language we have, else the first of Accept-Language we have, else
// Chinese.
func (s *server) lang(c echo.Context) string {
	req := c.Request()
	if l, ok := matchLang(req.URL.Query().Get("lang")); ok {
		return l
	}
	for _, tag := range parseAcceptLanguage(req.Header.Get("Accept-Language")) {
		if l, ok := matchLang(tag); ok {
			return l
		}
	}
	return langZH
}

// matchLang maps a language tag to a catalogue language. Every Chinese
// variant gets the Chinese catalogue, every English one the English, and "*"
// the default.
func matchLang(tag string) (string, bool) {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	switch primary {
	case "zh", "*":
		return langZH, true
	case "en":
		return langEN, true
	}
	return "", false
}

// maxLanguageTags bounds the work parseAcceptLanguage does for one header.
const maxLanguageTags = 16

// parseAcceptLanguage returns the language tags of an Accept-Language
// header, most preferred first (a stable sort by q). Tags with q=0 or a
// malformed q are left out, and at most maxLanguageTags are looked at.
func parseAcceptLanguage(h string) []string {
	type tagQ struct {
		tag string
		q   float64
	}
	var tags []tagQ
	for part := range strings.SplitSeq(h, ",") {
		if len(tags) == maxLanguageTags {
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.TrimSpace(tag)
		if tag == "" || len(tag) > 35 {
			continue
		}
		q := 1.0
		if params = strings.TrimSpace(params); params != "" {
			v, ok := strings.CutPrefix(params, "q=")
			if !ok {
				continue
			}
			var err error
			if q, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil || !(q >= 0 && q <= 1) { // also refuses NaN
				continue
			}
		}
		if q == 0 {
			continue
		}
		tags = append(tags, tagQ{tag, q})
	}
	slices.SortStableFunc(tags, func(a, b tagQ) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.tag
	}
	return out
}
