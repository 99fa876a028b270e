package handlers

import (
	"slices"
	"strconv"
	"strings"

	"aixin/i18n"

	"github.com/labstack/echo/v4"
)

// The catalogue and its languages live in package i18n; the handlers pick
// the request's language.
type catalogue = i18n.Catalogue

const (
	langZH = i18n.ZH
	langEN = i18n.EN
)

var (
	languages     = i18n.Languages
	loadCatalogue = i18n.Load
	verbs         = i18n.Verbs
)

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
