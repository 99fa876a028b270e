package ledger

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestVoucherToken(t *testing.T) {
	keys := map[byte][]byte{1: []byte("old key"), 2: []byte("current key")}
	id := uuid.MustParse("01934b6e-1f2a-7c3d-8e4f-5a6b7c8d9e0f")
	tok := VoucherToken(keys[2], 2, id)
	if strings.Trim(tok, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
		t.Fatalf("token %q is not upper-case base32", tok)
	}
	for _, s := range []string{tok, strings.ToLower(tok), " " + tok + "\n", VoucherToken(keys[1], 1, id)} {
		if got, err := ParseVoucherToken(keys, s); err != nil || got != id {
			t.Fatalf("ParseVoucherToken(%q) = %v %v", s, got, err)
		}
	}
	// Every single-character change of the token is refused.
	for i := range len(tok) {
		for _, c := range "0123456789ABCDEFGHJKMNPQRSTVWXYZ" {
			if byte(c) == tok[i] {
				continue
			}
			m := tok[:i] + string(c) + tok[i+1:]
			if _, err := ParseVoucherToken(keys, m); ErrorCode(err) != EINVALID {
				t.Fatalf("mutation %q at %d accepted", m, i)
			}
		}
	}
	if _, err := ParseVoucherToken(keys, VoucherToken([]byte("forger"), 2, id)); ErrorCode(err) != EINVALID {
		t.Fatal("a forged token was accepted")
	}
	if _, err := ParseVoucherToken(map[byte][]byte{1: keys[1]}, tok); ErrorCode(err) != EINVALID {
		t.Fatal("a token under an unknown key id was accepted")
	}
}

func FuzzParseVoucherToken(f *testing.F) {
	keys := map[byte][]byte{1: []byte("k")}
	f.Add(VoucherToken(keys[1], 1, uuid.New()))
	f.Add("AXV1")
	f.Add("AXM1" + strings.Repeat("0", 42))
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseVoucherToken(keys, s)
		if err == nil && VoucherToken(keys[1], 1, id) != strings.ToUpper(strings.TrimSpace(s)) {
			t.Fatalf("accepted %q for %v", s, id)
		}
	})
}

func TestShortCode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		code := ShortCode(r.Uint64())
		got, err := NormalizeShortCode(strings.ToLower(code[:5]) + "-" + code[5:])
		if err != nil || got != code {
			t.Fatalf("NormalizeShortCode(%s) = %q %v", code, got, err)
		}
		// One wrong character anywhere, or two neighbours swapped, is caught.
		for i := range 10 {
			for _, c := range shortCodeAlphabet {
				if byte(c) == code[i] {
					continue
				}
				m := code[:i] + string(c) + code[i+1:]
				if _, err := NormalizeShortCode(m); err == nil {
					t.Fatalf("%s mistyped as %s was accepted", code, m)
				}
			}
			if i < 9 && code[i] != code[i+1] {
				m := code[:i] + string(code[i+1]) + string(code[i]) + code[i+2:]
				if _, err := NormalizeShortCode(m); err == nil {
					t.Fatalf("%s with a swap, %s, was accepted", code, m)
				}
			}
		}
	}
	if got, err := NormalizeShortCode("o1234 5678"); err == nil {
		t.Fatalf("a 9-character code %q was accepted", got)
	}
}

func TestShopTakes(t *testing.T) {
	street, other := uuid.New(), uuid.New()
	cA, cB := uuid.New(), uuid.New()
	shopUnit := Unit{Path: []uuid.UUID{street, cA}}
	for _, tt := range []struct {
		scope RedeemScope
		path  []uuid.UUID
		want  bool
	}{
		{RedeemStreet, []uuid.UUID{street, cB, uuid.New()}, true},
		{RedeemStreet, []uuid.UUID{other, cB}, false},
		{RedeemCommunity, []uuid.UUID{street, cA, uuid.New()}, true},
		{RedeemCommunity, []uuid.UUID{street, cB}, false},
		{RedeemAll, []uuid.UUID{other}, true},
	} {
		if got := (Shop{RedeemScope: tt.scope}).Takes(shopUnit, Unit{Path: tt.path}); got != tt.want {
			t.Errorf("%s with %v: %v", tt.scope, tt.path, got)
		}
	}
}

// FuzzNormalizeShortCode feeds anything a clerk could type: what is accepted
// is ten characters of the alphabet with a right check character, and reads
// the same when typed again.
func FuzzNormalizeShortCode(f *testing.F) {
	f.Add(ShortCode(0x1234_5678_9abc))
	f.Add("hnr7y ajm75")
	f.Add("HNR7Y-AJM7Z")
	f.Add("ＨＮＲ７Ｙ ＡＪＭ７５")
	f.Add("OIL0101010")
	f.Fuzz(func(t *testing.T, s string) {
		code, err := NormalizeShortCode(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if len(code) != 10 || strings.Trim(code[:9], shortCodeAlphabet[:31]) != "" || code[9] != shortCodeAlphabet[shortCheck([]byte(code[:9]))] {
			t.Fatalf("%q accepted as %q", s, code)
		}
		if again, err := NormalizeShortCode(code); err != nil || again != code {
			t.Fatalf("%q read again as %q, %v", code, again, err)
		}
	})
}

// TestMaskName: the one rule for masked names keeps two people of one
// family apart (张*明, 张*华) and hides everything but the ends.
func TestMaskName(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"Empty", "", ""},
		{"OneCharacter", "张", "张"},
		{"TwoCharacters", "张明", "张*"},
		{"ThreeCharacters", "张小明", "张*明"},
		{"SameFamilyThree", "张小华", "张*华"},
		{"FourCharacters", "欧阳修远", "欧**远"},
		{"WithMiddleDot", "买买提·艾力", "买****力"},
		{"Latin", "Anna", "A**a"},
		{"AstralPlane", "𠀋小𠀋", "𠀋*𠀋"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MaskName(tc.in); got != tc.want {
				t.Fatalf("MaskName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	// Two names that differ only in the middle look alike; names that
	// differ at the end no longer do.
	if MaskName("张小明") == MaskName("张大华") {
		t.Fatal("张小明 and 张大华 look the same")
	}
}

func TestMergeVoucherLines(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	many := make([]VoucherRequestLine, MaxVoucherLines+1)
	for i := range many {
		many[i] = VoucherRequestLine{ItemID: uuid.New(), Qty: 1}
	}
	ones := make([]VoucherRequestLine, MaxVoucherQty+1)
	for i := range ones {
		ones[i] = VoucherRequestLine{ItemID: a, Qty: 1}
	}
	tests := []struct {
		name    string
		req     []VoucherRequestLine
		want    []VoucherRequestLine
		wantKey string
	}{
		{"Merged", []VoucherRequestLine{{a, 2}, {b, 1}, {a, 3}}, []VoucherRequestLine{{a, 5}, {b, 1}}, ""},
		{"MaxAfterMerge", []VoucherRequestLine{{a, 60}, {a, 40}}, []VoucherRequestLine{{a, 100}}, ""},
		{"OverMaxAfterMerge", []VoucherRequestLine{{a, 100}, {a, 100}, {a, 100}}, nil, "voucher.qty_invalid"},
		{"ManyOnesOfOneItem", ones, nil, "voucher.qty_invalid"},
		{"ZeroQty", []VoucherRequestLine{{a, 0}}, nil, "voucher.qty_invalid"},
		{"NegativeHidesInMerge", []VoucherRequestLine{{a, 100}, {a, -50}}, nil, "voucher.qty_invalid"},
		{"Empty", nil, nil, "voucher.lines_invalid"},
		{"TooManyItems", many, nil, "voucher.lines_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MergeVoucherLines(tt.req)
			if tt.wantKey != "" {
				if e, ok := AsError(err); !ok || e.Key != tt.wantKey {
					t.Fatalf("got %v, %v; want %s", got, err, tt.wantKey)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
