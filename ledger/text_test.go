package ledger

import (
	"strings"
	"testing"
)

func TestTextClean(t *testing.T) {
	name := Text{Field: "field.name", Key: "member.name_invalid", Max: 8, Required: true}
	note := Text{Field: "field.note", Key: "stock.text_invalid", Max: 10}
	desc := Text{Field: "field.description", Key: "event.description_invalid", Max: 20, Multiline: true}
	tests := []struct {
		name    string
		rule    Text
		in      string
		want    string
		wantKey string
	}{
		{"Trimmed", name, "  张三 \u3000", "张三", ""},
		{"Empty", name, "   ", "", "member.name_invalid"},
		{"EmptyOptional", note, "", "", ""},
		{"CharactersNotBytes", name, "欧阳娜娜张三李四", "欧阳娜娜张三李四", ""},
		{"TooLong", name, "欧阳娜娜张三李四王", "", "member.name_invalid"},
		{"NUL", name, "张\x00三", "", "text.control"},
		{"Tab", name, "张\t三", "", "text.control"},
		{"NewlineInName", name, "张\n三", "", "text.control"},
		{"DEL", name, "张\x7f三", "", "text.control"},
		{"C1", name, "张\u0085三", "", "text.control"},
		{"NewlineInDescription", desc, "第一行\r\n第二行\r第三行", "第一行\n第二行\n第三行", ""},
		{"TabInDescription", desc, "a\tb", "", "text.control"},
		{"BidiOverride", name, "张\u202e三", "", "text.bidi"},
		{"BidiIsolate", name, "\u2067abc", "", "text.bidi"},
		{"RightToLeftMark", name, "ab\u200fc", "", "text.bidi"},
		{"ByteOrderMark", name, "\ufeff张三", "", "text.invisible"},
		{"ZeroWidthSpace", name, "张\u200b三", "", "text.invisible"},
		{"ZeroWidthJoinerInEmoji", note, "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧", ""},
		{"InvalidUTF8", name, "张\xff三", "", "text.not_utf8"},
		{"Formula", name, "=1+1", "", "text.formula"},
		{"FormulaAfterSpace", name, "  @SUM(A1)", "", "text.formula"},
		{"FormulaAfterZeroWidthJoiner", name, "\u200d=1", "", "text.formula"},
		{"FormulaAllowed", Text{Field: "field.note", Key: "k", Max: 10, Formula: true}, "+1 小时", "+1 小时", ""},
		{"HyphenInside", name, "张-三", "张-三", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.rule.Clean(tt.in)
			if tt.wantKey == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Clean(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Code != EINVALID || e.Key != tt.wantKey {
				t.Fatalf("Clean(%q) = %q, %v; want %s", tt.in, got, err, tt.wantKey)
			}
			if len(e.Args) > 0 && e.Args[0] != tt.rule.Field && e.Key != "text.formula" && e.Key != tt.rule.Key {
				t.Errorf("the message names %v, not the field %v", e.Args[0], tt.rule.Field)
			}
		})
	}
}

func TestLooksLikeFormula(t *testing.T) {
	for in, want := range map[string]bool{
		"=1": true, "+86": true, "-1": true, "@A": true, " \t=1": true, "\ufeff=1": true, "\u200b+1": true,
		"\u2060\u200c@x": true, "\u202e=1": true, "1=1": false, "张三": false, "": false, "\ufeff": false,
	} {
		if got := LooksLikeFormula(in); got != want {
			t.Errorf("LooksLikeFormula(%q) = %v, want %v", in, got, want)
		}
	}
}

// FuzzTextClean checks that whatever Clean accepts is valid UTF-8, within
// its length, without control, bidi or invisible characters, and clean again.
func FuzzTextClean(f *testing.F) {
	for _, s := range []string{"张三", "\u202e", "a\x00b", "\ufeff=1", "第一行\r\n第二行", " x ", "\xff"} {
		f.Add(s)
	}
	rule := Text{Field: "field.description", Key: "k", Max: 50, Multiline: true}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := rule.Clean(s)
		if err != nil {
			return
		}
		again, err := rule.Clean(got)
		if err != nil || again != got {
			t.Fatalf("Clean(%q) = %q, but cleaning that again gives %q, %v", s, got, again, err)
		}
		if strings.ContainsAny(got, "\x00\t\r\u202e\ufeff\u200b") || LooksLikeFormula(got) {
			t.Fatalf("Clean(%q) let through %q", s, got)
		}
	})
}

func TestCheckPublic(t *testing.T) {
	for in, want := range map[string]string{
		"电话 13812345678":        "text.public_phone",
		"联系 138 1234 5678":      "text.public_phone",
		"联系138-1234-5678":       "text.public_phone",
		"电话１３８１２３４５６７８":         "text.public_phone",
		"座机 028-85551234":       "text.public_phone",
		"身份证110101199003077777": "text.public_id",
		"身份证11010119900307777X": "text.public_id",
		"住3单元502室":              "text.public_door",
		"住３单元５０２室":              "text.public_door",
		"想请人帮忙换助听器电池":           "",
		"每周二、四下午 3 点陪老人散步 2 小时": "",
		"需要 1 个书包、2 支笔":         "",
		"2号楼的老人":                "",
		"编号 20261207":           "",
	} {
		err := CheckPublic("field.wish_need", in)
		if le, _ := AsError(err); (want == "" && err != nil) || (want != "" && (le == nil || le.Key != want || le.Code != EINVALID)) {
			t.Errorf("CheckPublic(%q) = %v, want %q", in, err, want)
		}
	}
}
