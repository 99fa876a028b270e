package natural

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// sorted sorts names by their keys, as a caller does.
func sorted(names []string) []string {
	s := New()
	keys := map[string][]byte{}
	for _, n := range names {
		keys[n] = s.Key(n)
	}
	out := slices.Clone(names)
	slices.SortStableFunc(out, func(a, b string) int { return bytes.Compare(keys[a], keys[b]) })
	return out
}

// TestOrder: each list is in the order people expect; sorting any
// shuffle of it gives it back.
func TestOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
	}{
		{"ChineseOrdinals", []string{"第一网格", "第二网格", "第三网格", "第九网格", "第十网格", "第十一网格", "第十二网格", "第二十网格", "第一百零五网格"}},
		{"Buildings", []string{"1号楼", "2号楼", "3号楼", "10号楼", "11号楼", "21号楼", "100号楼"}},
		{"FullWidthDigits", []string{"２号楼", "９号楼", "１０号楼"}},
		{"LeadingZeros", []string{"01栋", "2栋", "010栋"}},
		{"MixedWritings", []string{"一组", "2组", "三组", "十组"}},
		{"CountersWithoutDi", []string{"一网格", "二网格", "十网格"}},
		{"PrefixFirst", []string{"第一", "第一网格", "第一网格二组"}},
		{"NumberInsideText", []string{"东河社区第二网格", "东河社区第十网格", "西华社区第一网格"}},
		{"TeamsByNumber", []string{"党员志愿服务队第一分队", "党员志愿服务队第二分队", "党员志愿服务队第十分队"}},
		{"UnitsThenPinyin", []string{"3号楼", "东河社区", "金牛社区", "西华社区"}},
		{"YearDigitByDigit", []string{"第二〇二五期", "第二〇二六期"}},
		{"Units10000", []string{"第九千九百九十九号", "第一万号", "第一万二千号"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 20 {
				shuffled := slices.Clone(tc.names)
				r := rand.New(rand.NewPCG(uint64(i), 7))
				r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
				if got := sorted(shuffled); !slices.Equal(got, tc.names) {
					t.Fatalf("sorted %v\n got  %v\n want %v", shuffled, got, tc.names)
				}
			}
		})
	}
}

// TestWordsStayText: numerals that are part of a word are not numbers, so
// such names keep their dictionary (pinyin) place among the others.
func TestWordsStayText(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []part
	}{
		{"PlaceName", "三里屯社区", []part{{text: "三里屯社区"}}},
		{"Wan", "万达社区", []part{{text: "万达社区"}}},
		{"Family", "一家亲志愿队", []part{{text: "一家亲志愿队"}}},
		{"NotANumber", "第十百网格", []part{{text: "第十百网格"}}},
		{"Ordinal", "第十一网格", []part{{text: "第"}, {number: true, digits: "11"}, {text: "网格"}}},
		{"Counter", "二十三栋", []part{{number: true, digits: "23"}, {text: "栋"}}},
		{"Digits", "A区007号", []part{{text: "A区"}, {number: true, digits: "7"}, {text: "号"}}},
		{"Zero", "0号", []part{{number: true, digits: "0"}, {text: "号"}}},
		{"Empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := split(tc.in); !slices.Equal(got, tc.want) {
				t.Fatalf("split(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
	// 三里屯 sorts by its pinyin (san), after 东河 (dong) and before 西华 (xi).
	want := []string{"东河社区", "三里屯社区", "万达社区", "西华社区"}
	if got := sorted([]string{"西华社区", "万达社区", "三里屯社区", "东河社区"}); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestTotal: names that read the same still have one order, and a name
// equals only itself.
func TestTotal(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"第一网格", "第1网格"},
		{"2号楼", "02号楼"},
		{"a\x00b", "a\x00c"},
		{"网格", "网格 "},
	} {
		c := Compare(tc.a, tc.b)
		if c == 0 || Compare(tc.b, tc.a) != -c {
			t.Errorf("Compare(%q, %q) = %d, reversed %d", tc.a, tc.b, c, Compare(tc.b, tc.a))
		}
	}
	if Compare("第二网格", "第二网格") != 0 {
		t.Error("a name differs from itself")
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"第一网格", "10号楼", "二〇二六", "十百", "万万", "一万零一", "１０", "\x00", "\xff第"} {
		f.Add(s, "第二网格")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		s := New()
		ka, kb := s.Key(a), s.Key(b)
		// Keys are a function of the name, and the order is antisymmetric
		// and total: equal keys only for equal names.
		if !bytes.Equal(ka, New().Key(a)) {
			t.Fatalf("two keys for %q", a)
		}
		if (bytes.Compare(ka, kb) == 0) != (a == b) {
			t.Fatalf("keys of %q and %q compare %d", a, b, bytes.Compare(ka, kb))
		}
	})
}
