package i18n

import (
	"regexp"
	"strings"
	"testing"

	"aixin/ledger"
	"aixin/static"
)

func testCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	c, err := Load(static.FS)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	c := testCatalogue(t)
	zh, en := c.msgs[ZH], c.msgs[EN]
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in zh-CN.json but not in en.json", k)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%q is in en.json but not in zh-CN.json", k)
		}
	}
	for k, z := range zh {
		if e, ok := en[k]; ok && Verbs(z) != Verbs(e) {
			t.Errorf("%q: zh-CN has %d verbs, en %d", k, Verbs(z), Verbs(e))
		}
		if strings.TrimSpace(z) == "" || strings.TrimSpace(en[k]) == "" {
			t.Errorf("%q has an empty message", k)
		}
	}
}

func TestCatalogueT(t *testing.T) {
	c := testCatalogue(t)
	c.msgs[ZH]["test.only_zh"] = "只有中文 %v"
	tests := []struct {
		name, lang, key string
		args            []any
		want            string
	}{
		{"Chinese", ZH, "entry.insufficient", []any{5, 20}, "积分不足：可用 5 分，需要 20 分"},
		{"English", EN, "entry.insufficient", []any{5, 20}, "Not enough points: 5 available, 20 needed"},
		{"NoArgs", EN, "auth.bad_credentials", nil, "Wrong login or password"},
		{"FallsBackToChinese", EN, "test.only_zh", []any{1}, "只有中文 1"},
		{"UnknownLanguage", "fr", "auth.bad_credentials", nil, "登录名或密码不正确"},
		{"UnknownKey", EN, "no.such.key", nil, "no.such.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.T(tt.lang, tt.key, tt.args...); got != tt.want {
				t.Errorf("T = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPlural: a plural group takes the argument of the verb before it.
func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		args      []any
		want      string
	}{
		{"One", "%v {volunteer|volunteers}", []any{1}, "1 volunteer"},
		{"Two", "%v {volunteer|volunteers}", []any{2}, "2 volunteers"},
		{"Zero", "%v {volunteer|volunteers}", []any{0}, "0 volunteers"},
		{"Int64", "%d {point|points}", []any{ledger.Points(1)}, "1 point"},
		{"Text", "%v {row|rows}", []any{"1"}, "1 row"},
		{"Thousands", "%v {row|rows}", []any{"1,000"}, "1,000 rows"},
		{"Float", "%.1f {hour|hours}", []any{1.0}, "1.0 hour"},
		{"EachItsOwn", "%v {entry|entries}, %v {account|accounts}", []any{1, 3}, "1 entry, 3 accounts"},
		{"LaterWordsTakeTheLastVerb", "%v {person|people} checked in and {was|were} counted", []any{1}, "1 person checked in and was counted"},
		{"Width", "%02d {day|days}", []any{1}, "01 day"},
		{"Percent", "100%% of %v {row|rows}", []any{1}, "100% of 1 row"},
		{"NoVerbBefore", "{row|rows} %v", []any{1}, "rows 1"},
		{"NotAGroup", "a {b} %v", []any{1}, "a {b} 1"},
		{"Unclosed", "%v {row|rows", []any{1}, "1 {row|rows"},
		{"Chinese", "%v 人", []any{1}, "1 人"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Catalogue{msgs: map[string]map[string]string{ZH: {"k": tc.msg}}}
			if got := c.T(ZH, "k", tc.args...); got != tc.want {
				t.Fatalf("%q with %v = %q, want %q", tc.msg, tc.args, got, tc.want)
			}
		})
	}
}

// TestEnglishCountsArePlural: an English message that counts points,
// people, records, rows, volunteers and the like says "1 point" for one:
// the count's noun is a plural group. Plural groups stand after a verb.
func TestEnglishCountsArePlural(t *testing.T) {
	c := testCatalogue(t)
	counted := regexp.MustCompile(`%[vd] (points|people|persons|records|rows|volunteers|events|entries|accounts|times|cards|pages|members|vouchers|items)\b`)
	group := regexp.MustCompile(`\{[^{}|]*\|[^{}|]*\}`)
	// Messages whose verb before such a word is a name, not a count.
	names := map[string]bool{
		"user.role_not_allowed": true, // You may not create <role> accounts
		"page.notice.heading":   true, // <community> points notice, <month>
	}
	for k, msg := range c.msgs[EN] {
		if m := counted.FindString(msg); m != "" && !names[k] {
			t.Errorf("%s: %q counts without a plural group: write %%v {one|other}", k, m)
		}
		for _, loc := range group.FindAllStringIndex(msg, -1) {
			if Verbs(msg[:loc[0]]) == 0 {
				t.Errorf("%s: the plural group %q has no verb before it", k, msg[loc[0]:loc[1]])
			}
		}
	}
	for k, msg := range c.msgs[ZH] {
		if group.MatchString(msg) {
			t.Errorf("%s: a plural group in Chinese: %q", k, msg)
		}
	}
}

// TestCategoriesTranslated: every service category (data, kept in Chinese)
// has a name in each language, and the Chinese name is the category itself.
func TestCategoriesTranslated(t *testing.T) {
	c := testCatalogue(t)
	for _, name := range ledger.Categories {
		if got := c.Category(ZH, name); got != name {
			t.Errorf("%s in Chinese is %q", name, got)
		}
		if _, ok := c.msgs[EN]["js.category."+name]; !ok {
			t.Errorf("%s has no English name (js.category.%s)", name, name)
		}
	}
	if got := c.Category(EN, "环境整治"); got != "Environment clean-up" {
		t.Errorf("环境整治 in English is %q", got)
	}
	// A category the catalogue does not know shows as it is.
	if got := c.Category(EN, "自定义类别"); got != "自定义类别" {
		t.Errorf("unknown category: %q", got)
	}
}

// TestTextLimitsInMessages: a free-text rule's own message names its limit
// where it has a verb for it (the wish title's 40), and one without a verb
// reads whole, with no formatting debris.
func TestTextLimitsInMessages(t *testing.T) {
	c := testCatalogue(t)
	for _, tt := range []struct {
		rule ledger.Text
		want string
	}{
		{ledger.WishTitle, "最多 40 个字"},
		{ledger.Reason, ""},
		{ledger.HouseholdAddress, "最多 60 个字"},
	} {
		_, err := tt.rule.Clean(strings.Repeat("长", tt.rule.Max+1))
		le, ok := ledger.AsError(err)
		if !ok {
			t.Fatalf("%s: %v", tt.rule.Key, err)
		}
		msg := c.T(ZH, le.Key, le.Args...)
		if strings.Contains(msg, "%") || strings.Contains(msg, "EXTRA") || !strings.Contains(msg, tt.want) {
			t.Errorf("%s: %q", tt.rule.Key, msg)
		}
	}
}
