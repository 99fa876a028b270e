// Package natural makes sort keys that put the names of units, grids,
// buildings and teams in the order people read them: the numbers in a name
// by their value, whether written 10, １０ or 十 (2号楼 before 10号楼, 第十网格
// after 第九网格), and the text between them in the order of a Chinese
// dictionary (pinyin), as a Chinese spreadsheet sorts.
//
// A run of Chinese numerals counts as a number only where it is one: after
// 第, or before a counter such as 号, 栋, 楼, 单元, 组, 网格 or 期. Elsewhere
// it is part of a word (三里屯, 万达, 一家亲) and sorts as text.
package natural

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// Sorter makes sort keys. It is not safe for concurrent use: make one per
// sort (New is cheap enough for a request).
type Sorter struct {
	col *collate.Collator
	buf collate.Buffer
}

// New returns a Sorter that orders text as Chinese does.
func New() *Sorter {
	return &Sorter{col: collate.New(language.Chinese)}
}

// Key tags of the parts of a key. The end of a key sorts before any part,
// so that a name sorts before the longer names it begins (第一 before
// 第一网格), and a number before text (2号楼 before 东楼).
const (
	tagEnd    = 0x00
	tagNumber = 0x01
	tagText   = 0x02
)

// Key returns the sort key of name: compare keys with bytes.Compare. Names
// that read the same (第一网格 and 第1网格) are told apart by their text at the
// end of the key, so the order is total and the same on every run.
func (s *Sorter) Key(name string) []byte {
	var key []byte
	for _, p := range split(name) {
		if p.number {
			key = append(key, tagNumber, byte(min(len(p.digits), 255)))
			key = append(key, p.digits[:min(len(p.digits), 255)]...)
			continue
		}
		s.buf.Reset()
		key = append(key, tagText)
		key = escape(key, s.col.KeyFromString(&s.buf, p.text))
	}
	key = append(key, tagEnd)
	return escape(key, []byte(name))
}

// Compare compares two names in natural order (a Sorter of its own; for
// sorting many names, make their keys once with a Sorter).
func Compare(a, b string) int {
	s := New()
	return bytes.Compare(s.Key(a), s.Key(b))
}

// escape appends b to key so that the order of keys is the order of b:
// 0x00 becomes 0x00 0xFF and the end is 0x00 0x01.
func escape(key, b []byte) []byte {
	for _, c := range b {
		key = append(key, c)
		if c == 0 {
			key = append(key, 0xFF)
		}
	}
	return append(key, 0x00, 0x01)
}

// part is a run of a name: text, or a number as decimal digits without
// leading zeros ("0" for zero).
type part struct {
	number bool
	text   string
	digits string
}

// split cuts a name into its text and its numbers.
func split(name string) []part {
	var parts []part
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			parts = append(parts, part{text: text.String()})
			text.Reset()
		}
	}
	prev := rune(0)
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		switch {
		case digit(r) >= 0:
			j := i
			var ds []byte
			for j < len(name) {
				r, n := utf8.DecodeRuneInString(name[j:])
				d := digit(r)
				if d < 0 {
					break
				}
				ds = append(ds, byte('0'+d))
				j += n
			}
			flush()
			parts = append(parts, part{number: true, digits: trimZeros(string(ds))})
			prev = 0
			i = j
			continue
		case chineseNumeral(r):
			j := i
			for j < len(name) {
				r, n := utf8.DecodeRuneInString(name[j:])
				if !chineseNumeral(r) {
					break
				}
				j += n
			}
			run := name[i:j]
			if v, ok := chineseValue(run); ok && (prev == '第' || counterAt(name[j:])) {
				flush()
				parts = append(parts, part{number: true, digits: v})
				prev = 0
				i = j
				continue
			}
			text.WriteString(run)
			prev, _ = utf8.DecodeLastRuneInString(run)
			i = j
			continue
		}
		text.WriteRune(r)
		prev = r
		i += size
	}
	flush()
	return parts
}

// digit is the value of an ASCII or full-width digit, or -1.
func digit(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= '０' && r <= '９':
		return int(r - '０')
	}
	return -1
}

func trimZeros(ds string) string {
	ds = strings.TrimLeft(ds, "0")
	if ds == "" {
		return "0"
	}
	return ds
}

// Chinese numerals: the digits (with 〇, 零 and 两) and the units.
var (
	chineseDigits = map[rune]uint64{'〇': 0, '零': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	chineseUnits  = map[rune]uint64{'十': 10, '百': 100, '千': 1000, '万': 10000}
)

func chineseNumeral(r rune) bool {
	_, d := chineseDigits[r]
	_, u := chineseUnits[r]
	return d || u
}

// counters are the words that follow a number in the name of a unit or a
// team: 3号楼, 十栋, 二单元, 一组, 五网格, 二期, 一分队.
var counters = []string{"号", "栋", "幢", "座", "楼", "单元", "组", "网格", "片", "区", "期", "队", "分队", "支部", "小组", "社区", "街", "巷", "层", "户", "室", "排"}

func counterAt(rest string) bool {
	for _, c := range counters {
		if strings.HasPrefix(rest, c) {
			return true
		}
	}
	return false
}

// chineseValue reads a run of Chinese numerals as decimal digits: with
// units (二十三, 一百零五, 两千) by their value, without (二〇二六) digit by
// digit. A run that is not a well-formed number is not one.
func chineseValue(run string) (string, bool) {
	hasUnit := false
	for _, r := range run {
		if _, ok := chineseUnits[r]; ok {
			hasUnit = true
		}
	}
	if !hasUnit {
		var ds []byte
		for _, r := range run {
			ds = append(ds, byte('0'+chineseDigits[r]))
		}
		return trimZeros(string(ds)), true
	}
	var total, section, num uint64
	lastUnit := uint64(0)
	pending := false // a digit waits for its unit
	for _, r := range run {
		if d, ok := chineseDigits[r]; ok {
			num, pending = d, true
			continue
		}
		u := chineseUnits[r]
		if u == 10000 {
			section += num
			if section == 0 {
				return "", false
			}
			total += section * 10000
			section, num, pending, lastUnit = 0, 0, false, 0
			continue
		}
		if lastUnit != 0 && u >= lastUnit {
			return "", false // 十百, 十十: not a number
		}
		if !pending {
			num = 1 // 十 is 一十
		}
		section += num * u
		num, pending, lastUnit = 0, false, u
	}
	v := total + section + num
	return formatUint(v), true
}

func formatUint(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
