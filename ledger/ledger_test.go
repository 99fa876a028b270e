package ledger

import (
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var (
	memberA   = MemberAccount(uuid.MustParse("00000000-0000-4000-8000-00000000000a"))
	memberB   = MemberAccount(uuid.MustParse("00000000-0000-4000-8000-00000000000b"))
	issuer    = IssuerAccount(uuid.MustParse("00000000-0000-4000-8000-000000000001"))
	shop      = ShopAccount(uuid.MustParse("00000000-0000-4000-8000-000000000005"))
	expired   = ExpiredAccount(uuid.MustParse("00000000-0000-4000-8000-000000000001"))
	household = HouseholdAccount(uuid.MustParse("00000000-0000-4000-8000-0000000000aa"))
)

// TestCanonicalVector pins the canonical encoding and the chain hash of one
// entry, written out field by field as the comment on canonicalVersion says.
func TestCanonicalVector(t *testing.T) {
	e := Entry{
		Seq:  1,
		ID:   uuid.MustParse("01234567-89ab-7def-8123-456789abcdef"),
		Time: time.Date(2026, 11, 1, 1, 2, 3, 0, time.UTC),
		Transfer: Transfer{
			Debit: issuer, Credit: memberA, Amount: 22, Kind: KindEarn,
			Reference: "attendance:1", Minutes: 135, Actor: "u1", Memo: "", IdempotencyKey: "k",
		},
	}
	want := strings.Join([]string{
		"01",                               // version
		"0000000000000001",                 // seq
		"0123456789ab7def8123456789abcdef", // id
		"18e3c6214fe1ae00",                 // time: 2026-11-01T01:02:03Z in Unix ns
		"02" + "00000000000040008000000000000001", // debit issuer
		"01" + "0000000000004000800000000000000a", // credit member
		"0000000000000016",                        // amount 22
		"01",                                      // kind earn
		"0000000000000000",                        // reverses
		"0000000000000087",                        // minutes 135
		"000c" + hex.EncodeToString([]byte("attendance:1")),
		"0002" + hex.EncodeToString([]byte("u1")),
		"0000",
		"0001" + hex.EncodeToString([]byte("k")),
	}, "")
	if got := hex.EncodeToString(e.Canonical()); got != want {
		t.Fatalf("canonical bytes\n got %s\nwant %s", got, want)
	}
	const wantHash = "3b9a4427a1c546e8bae4968a270b1cbf085c70abeb0a9ea3967ee93761a4f3c5" // computed independently with Python hashlib
	if got := ChainHash(Hash{}, e.Canonical()).String(); got != wantHash {
		t.Fatalf("hash = %s, want %s", got, wantHash)
	}
	back, err := DecodeCanonical(e.Canonical())
	if err != nil {
		t.Fatal(err)
	}
	if back.Transfer != e.Transfer || back.Seq != e.Seq || back.ID != e.ID || !back.Time.Equal(e.Time) {
		t.Fatalf("decode: got %+v, want %+v", back, e)
	}
}

func TestChainDetectsChange(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	e1, err := Post(Transfer{Debit: issuer, Credit: memberA, Amount: 5, Kind: KindEarn}, 0, 0, 1, uuid.New(), now, Hash{})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Post(Transfer{Debit: memberA, Credit: Escrow, Amount: 5, Kind: KindHold}, 5, 0, 2, uuid.New(), now, e1.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if e2.PrevHash != e1.Hash || ChainHash(e1.Hash, e2.Canonical()) != e2.Hash {
		t.Fatal("e2 is not chained to e1")
	}
	changed := e1
	changed.Amount = 6
	if ChainHash(Hash{}, changed.Canonical()) == e1.Hash {
		t.Fatal("changing the amount did not change the hash")
	}
}

func TestPost(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		tr            Transfer
		debit, credit Points
		code, key     string
	}{
		{"EarnFromIssuer", Transfer{Debit: issuer, Credit: memberA, Amount: 10, Kind: KindEarn}, 0, 0, "", ""},
		{"IssuerMayGoNegative", Transfer{Debit: issuer, Credit: memberA, Amount: 10, Kind: KindAward}, -100, 0, "", ""},
		{"HoldWithinBalance", Transfer{Debit: memberA, Credit: Escrow, Amount: 10, Kind: KindHold}, 10, 0, "", ""},
		{"HoldOverBalance", Transfer{Debit: memberA, Credit: Escrow, Amount: 11, Kind: KindHold}, 10, 0, ECONFLICT, "entry.insufficient"},
		{"RedeemOverEscrow", Transfer{Debit: Escrow, Credit: shop, Amount: 11, Kind: KindRedeem}, 10, 0, ECONFLICT, "entry.insufficient"},
		{"ZeroAmount", Transfer{Debit: issuer, Credit: memberA, Amount: 0, Kind: KindEarn}, 0, 0, EINVALID, "entry.amount_not_positive"},
		{"NegativeAmount", Transfer{Debit: issuer, Credit: memberA, Amount: -5, Kind: KindEarn}, 0, 0, EINVALID, "entry.amount_not_positive"},
		{"HugeAmount", Transfer{Debit: issuer, Credit: memberA, Amount: MaxAmount + 1, Kind: KindEarn}, 0, 0, EINVALID, "entry.amount_too_large"},
		{"SameAccount", Transfer{Debit: memberA, Credit: memberA, Amount: 1, Kind: KindHold}, 10, 10, EINVALID, "entry.same_account"},
		{"WrongDirection", Transfer{Debit: memberA, Credit: issuer, Amount: 1, Kind: KindEarn}, 10, 0, EINVALID, "entry.direction_invalid"},
		{"MemberToMember", Transfer{Debit: memberA, Credit: memberB, Amount: 1, Kind: KindHold}, 10, 0, EINVALID, "entry.direction_invalid"},
		{"UnknownKind", Transfer{Debit: issuer, Credit: memberA, Amount: 1, Kind: 99}, 0, 0, EINVALID, "entry.kind_invalid"},
		{"NilMember", Transfer{Debit: issuer, Credit: Account{Kind: AccountMember}, Amount: 1, Kind: KindEarn}, 0, 0, EINVALID, "entry.account_invalid"},
		{"ReverseWithoutTarget", Transfer{Debit: memberA, Credit: issuer, Amount: 1, Kind: KindReverse}, 10, 0, EINVALID, "entry.reverse_needs_target"},
		{"ReversesOnEarn", Transfer{Debit: issuer, Credit: memberA, Amount: 1, Kind: KindEarn, Reverses: 3}, 0, 0, EINVALID, "entry.reverses_only_reverse"},
		{"MinutesOnHold", Transfer{Debit: memberA, Credit: Escrow, Amount: 1, Kind: KindHold, Minutes: 5}, 10, 0, EINVALID, "entry.minutes_only_earn"},
		{"NegativeMinutes", Transfer{Debit: issuer, Credit: memberA, Amount: 1, Kind: KindEarn, Minutes: -5}, 0, 0, EINVALID, "entry.minutes_invalid"},
		{"LongMemo", Transfer{Debit: issuer, Credit: memberA, Amount: 1, Kind: KindEarn, Memo: strings.Repeat("x", MaxMemoLen+1)}, 0, 0, EINVALID, "entry.memo_too_long"},
		// A memo counts characters: a 200-character Chinese reason is 600 bytes and fits.
		{"ChineseMemo", Transfer{Debit: issuer, Credit: memberA, Amount: 1, Kind: KindEarn, Memo: strings.Repeat("补", MaxMemoLen)}, 0, 0, "", ""},
		{"LongChineseMemo", Transfer{Debit: issuer, Credit: memberA, Amount: 1, Kind: KindEarn, Memo: strings.Repeat("补", MaxMemoLen+1)}, 0, 0, EINVALID, "entry.memo_too_long"},
		{"LongActor", Transfer{Debit: issuer, Credit: memberA, Amount: 1, Kind: KindEarn, Actor: strings.Repeat("x", MaxActorLen+1)}, 0, 0, EINVALID, "entry.field_too_long"},
		{"BadUTF8", Transfer{Debit: issuer, Credit: memberA, Amount: 1, Kind: KindEarn, Actor: "\xff"}, 0, 0, EINVALID, "entry.field_not_utf8"},
		{"ExpireToExpired", Transfer{Debit: memberA, Credit: expired, Amount: 3, Kind: KindExpire}, 3, 0, "", ""},
		// A household's points move as a member's: awarded, held, released, expired and deducted.
		{"AwardToHousehold", Transfer{Debit: issuer, Credit: household, Amount: 5, Kind: KindAward}, 0, 0, "", ""},
		{"EarnToHousehold", Transfer{Debit: issuer, Credit: household, Amount: 5, Kind: KindEarn}, 0, 0, EINVALID, "entry.direction_invalid"},
		{"HouseholdHold", Transfer{Debit: household, Credit: Escrow, Amount: 5, Kind: KindHold}, 5, 0, "", ""},
		{"HouseholdHoldOverBalance", Transfer{Debit: household, Credit: Escrow, Amount: 6, Kind: KindHold}, 5, 0, ECONFLICT, "entry.insufficient"},
		{"HouseholdRelease", Transfer{Debit: Escrow, Credit: household, Amount: 5, Kind: KindRelease}, 5, 0, "", ""},
		{"HouseholdExpire", Transfer{Debit: household, Credit: expired, Amount: 5, Kind: KindExpire}, 5, 0, "", ""},
		{"HouseholdToShop", Transfer{Debit: household, Credit: shop, Amount: 5, Kind: KindRedeem}, 5, 0, EINVALID, "entry.direction_invalid"},
		// A deduction (扣分) goes back to the issuer and never below zero.
		{"Deduct", Transfer{Debit: memberA, Credit: issuer, Amount: 4, Kind: KindDeduct}, 4, 0, "", ""},
		{"DeductHousehold", Transfer{Debit: household, Credit: issuer, Amount: 4, Kind: KindDeduct}, 4, 0, "", ""},
		{"DeductOverBalance", Transfer{Debit: memberA, Credit: issuer, Amount: 5, Kind: KindDeduct}, 4, 0, ECONFLICT, "entry.insufficient"},
		{"DeductToMember", Transfer{Debit: memberA, Credit: memberB, Amount: 1, Kind: KindDeduct}, 4, 0, EINVALID, "entry.direction_invalid"},
		{"DeductFromIssuer", Transfer{Debit: issuer, Credit: memberA, Amount: 1, Kind: KindDeduct}, 4, 0, EINVALID, "entry.direction_invalid"},
		{"CreditOverflow", Transfer{Debit: issuer, Credit: memberA, Amount: 10, Kind: KindEarn}, 0, maxBalance - 5, ECONFLICT, "entry.balance_overflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Post(tt.tr, tt.debit, tt.credit, 7, uuid.New(), now, Hash{1})
			if tt.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if e.Seq != 7 || e.PrevHash != (Hash{1}) || e.Hash != ChainHash(Hash{1}, e.Canonical()) {
					t.Fatalf("bad entry %+v", e)
				}
				return
			}
			le, ok := AsError(err)
			if !ok || le.Code != tt.code || le.Key != tt.key {
				t.Fatalf("got %v, want %s %s", err, tt.code, tt.key)
			}
		})
	}
}

func TestReverse(t *testing.T) {
	orig := Entry{Seq: 4, Transfer: Transfer{Debit: issuer, Credit: memberA, Amount: 9, Kind: KindEarn, Reference: "attendance:x", Minutes: 60}}
	tr, err := Reverse(orig, "admin", "wrong event", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Debit != memberA || tr.Credit != issuer || tr.Amount != 9 || tr.Reverses != 4 || tr.Minutes != 60 || tr.Reference != "attendance:x" {
		t.Fatalf("bad reverse %+v", tr)
	}
	if err := CheckReverse(tr, orig); err != nil {
		t.Fatal(err)
	}
	tr.Amount = 8
	if ErrorCode(CheckReverse(tr, orig)) != EINVALID {
		t.Fatal("a reverse with another amount was accepted")
	}
	rev := Entry{Seq: 5, Transfer: tr}
	rev.Kind = KindReverse
	if _, err := Reverse(rev, "", "", ""); ErrorCode(err) != EINVALID {
		t.Fatalf("reverse of a reverse: %v", err)
	}
}

func TestParseAccount(t *testing.T) {
	for _, a := range []Account{memberA, issuer, shop, expired, household, Escrow} {
		got, err := ParseAccount(a.String())
		if err != nil || got != a {
			t.Fatalf("round trip of %s: %v %v", a, got, err)
		}
		k := a.Key()
		back, err := AccountFromKey(k[:])
		if err != nil || back != a {
			t.Fatalf("key round trip of %s: %v", a, err)
		}
	}
	for _, s := range []string{"", "member", "member:", "member:xyz", "escrow:other", "bank:" + uuid.NewString(),
		"member:00000000-0000-0000-0000-000000000000", "member:{" + uuid.NewString() + "}"} {
		if _, err := ParseAccount(s); ErrorCode(err) != EINVALID {
			t.Errorf("ParseAccount(%q) = %v, want EINVALID", s, err)
		}
	}
}

func TestMonth(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// 16:30 UTC on 31 October is 00:30 on 1 November in Shanghai.
	ts := time.Date(2026, 10, 31, 16, 30, 0, 0, time.UTC)
	if m := MonthOf(ts, sh); m != 202611 || m.String() != "2026-11" {
		t.Fatalf("MonthOf = %v", m)
	}
	if m := MonthOf(ts, time.UTC); m != 202610 {
		t.Fatalf("MonthOf UTC = %v", m)
	}
	for _, s := range []string{"2026-13", "2026-1", "26-11", "2026/11", ""} {
		if _, err := ParseMonth(s); ErrorCode(err) != EINVALID {
			t.Errorf("ParseMonth(%q) accepted", s)
		}
	}
}

func FuzzDecodeCanonical(f *testing.F) {
	e := Entry{Seq: 3, ID: uuid.New(), Time: time.Unix(1700000000, 5), Transfer: Transfer{Debit: issuer, Credit: memberA, Amount: 4, Kind: KindEarn, Memo: "备注"}}
	f.Add(e.Canonical())
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeCanonical(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to the same bytes.
		if again := got.Canonical(); string(again) != string(b) {
			t.Fatalf("round trip changed bytes:\n%x\n%x", b, again)
		}
	})
}

// TestPureDependencies keeps the domain free of storage and HTTP.
func TestPureDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.etcd.io/bbolt", "github.com/labstack/echo", "net/http", "aixin/store", "aixin/handlers"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("ledger depends on %s", dep)
			}
		}
	}
}

func FuzzParseAccount(f *testing.F) {
	for _, s := range []string{memberA.String(), "escrow:vouchers", "member:", "x:y", "shop:" + strings.ToUpper(uuid.NewString())} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAccount(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ParseAccount(%q): %v", s, err)
			}
			return
		}
		// An accepted account is valid and prints back to the same text,
		// up to the case of the UUID's hex digits.
		if !a.Valid() || !strings.EqualFold(a.String(), s) {
			t.Fatalf("ParseAccount(%q) = %v", s, a)
		}
	})
}

func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{"2026-11", "2026-13", "0000-01", "9999-12", "2026-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMonth(s)
		if err != nil {
			return
		}
		if m.String() != s {
			t.Fatalf("ParseMonth(%q) = %v", s, m)
		}
	})
}

func TestCard(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	id := uuid.MustParse("01934b6e-1f2a-7c3d-8e4f-5a6b7c8d9e0f")
	code := SignCard(key, id)
	if got, err := ParseCard(key, strings.ToLower(" "+code+" ")); err != nil || got != id {
		t.Fatalf("ParseCard(%s) = %v %v", code, got, err)
	}
	for name, forged := range map[string]string{
		"OtherKey":  SignCard([]byte("another key"), id),
		"AlteredID": code[:10] + string("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[(strings.IndexByte("0123456789ABCDEFGHJKMNPQRSTVWXYZ", code[10])+1)%32]) + code[11:],
		"Truncated": code[:len(code)-1],
		"NoPrefix":  code[4:],
		"Empty":     "",
		"NotBase32": code[:len(code)-2] + "!!",
		"PhoneLike": "13812345678",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseCard(key, forged); ErrorCode(err) != EINVALID {
				t.Fatalf("ParseCard(%q) accepted: %v", forged, err)
			}
		})
	}
}

func FuzzParseCard(f *testing.F) {
	key := []byte("k")
	f.Add(SignCard(key, uuid.New()))
	f.Add("AXM1")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseCard(key, s)
		if err == nil && SignCard(key, id) != strings.ToUpper(strings.TrimSpace(s)) {
			t.Fatalf("accepted %q for %v", s, id)
		}
	})
}

func TestMonthArithmetic(t *testing.T) {
	for _, tt := range []struct {
		m    Month
		n    int
		want Month
	}{{202611, 1, 202612}, {202612, 1, 202701}, {202601, -1, 202512}, {202611, -11, 202512}, {202611, -23, 202412}, {202611, 0, 202611}, {202612, 13, 202801}} {
		if got := tt.m.AddMonths(tt.n); got != tt.want {
			t.Errorf("%v.AddMonths(%d) = %v, want %v", tt.m, tt.n, got, tt.want)
		}
	}
	if Month(202612).Next() != 202701 || Month(202611).Next() != 202612 {
		t.Error("Next")
	}
}
