package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

var ctx = context.Background()

// openTest opens a store in a temp dir and checks the file's consistency
// (bbolt's own tx.Check) and the ledger's (Verify) when the test ends.
func openTest(tb testing.TB, opts Options) *Store {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "aixin.db")
	s, err := Open(path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		checkConsistent(tb, s)
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

func checkConsistent(tb testing.TB, s *Store) {
	tb.Helper()
	if s.closed {
		return
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		tb.Errorf("bbolt check: %v", err)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK {
		tb.Errorf("verify: %+v %v", rep, err)
	}
	if err := checkAttendances(s); err != nil {
		tb.Error(err)
	}
}

// checkAttendances checks that posted attendances and the journal agree:
// each posted attendance's entry is an unreversed earn of its points, and
// for every member the points that attendance entries net them equal the
// points of their posted attendances.
func checkAttendances(s *Store) error {
	return s.db.View(func(tx *bolt.Tx) error {
		net := map[string]ledger.Points{} // attendance reference -> net points in the journal
		err := tx.Bucket(bucketJournal).ForEach(func(_, v []byte) error {
			se, err := decodeStored(v)
			if err != nil || !strings.HasPrefix(se.Reference, "attendance:") {
				return err
			}
			if se.Credit.Kind == ledger.AccountMember {
				net[se.Reference] += se.Amount
			} else {
				net[se.Reference] -= se.Amount
			}
			return nil
		})
		if err != nil {
			return err
		}
		minutes := map[uuid.UUID]int64{} // event -> posted minutes
		err = tx.Bucket(bucketAttendances).ForEach(func(_, v []byte) error {
			var a ledger.Attendance
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if a.Status == ledger.AttendancePosted && a.EntrySeq != 0 {
				minutes[a.EventID] += a.Minutes // an attendance of no points has no entry, and credits no minutes
			}
			want := ledger.Points(0)
			if a.Status == ledger.AttendancePosted {
				want = a.Points
				if a.EntrySeq != 0 {
					se, err := readStored(tx, a.EntrySeq)
					if err != nil || se.Kind != ledger.KindEarn || se.Amount != a.Points || se.Reference != a.Reference() ||
						tx.Bucket(bucketReversed).Get(u64(a.EntrySeq)) != nil {
						return fmt.Errorf("attendance %s: entry %d is not its unreversed earn of %d points", a.ID, a.EntrySeq, a.Points)
					}
				}
			}
			if net[a.Reference()] != want {
				return fmt.Errorf("attendance %s (%s, %d points): the journal nets %d", a.ID, a.Status, a.Points, net[a.Reference()])
			}
			return nil
		})
		if err != nil {
			return err
		}
		// The months' service by event, summed over the months, agree with
		// the minutes the posted attendances' entries credited.
		kept := map[uuid.UUID]int64{}
		if err := tx.Bucket(bucketMonthEvent).ForEach(func(k, v []byte) error {
			n, _ := binary.Varint(v)
			kept[uuid.UUID(k[4:])] += n
			return nil
		}); err != nil {
			return err
		}
		for id, n := range minutes {
			if kept[id] != n {
				return fmt.Errorf("event %v: its attendances' entries credited %d minutes, the months keep %d", id, n, kept[id])
			}
			delete(kept, id)
		}
		for id, n := range kept {
			if n != 0 {
				return fmt.Errorf("event %v: the months keep %d minutes, its attendances credited none", id, n)
			}
		}
		return nil
	})
}

func openAccounts(tb testing.TB, s *Store, accts ...ledger.Account) {
	tb.Helper()
	for _, a := range accts {
		if err := s.OpenAccount(ctx, a); err != nil {
			tb.Fatal(err)
		}
	}
}

func wantCode(tb testing.TB, err error, code, key string) {
	tb.Helper()
	le, ok := ledger.AsError(err)
	if !ok || le.Code != code || (key != "" && le.Key != key) {
		tb.Fatalf("got error %v, want %s %s", err, code, key)
	}
}

func TestAppendAndRead(t *testing.T) {
	clock := time.Date(2026, 10, 31, 15, 59, 0, 0, time.UTC) // 23:59 in Shanghai
	s := openTest(t, Options{Now: func() time.Time { return clock }})
	unit, m := uuid.New(), uuid.New()
	iss, mem := ledger.IssuerAccount(unit), ledger.MemberAccount(m)
	openAccounts(t, s, iss, mem)

	e1, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: mem, Amount: 22, Kind: ledger.KindEarn, Minutes: 135, Reference: "attendance:1"})
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * time.Minute) // 00:01 on 1 November in Shanghai
	e2, err := s.Append(ctx, ledger.Transfer{Debit: mem, Credit: ledger.Escrow, Amount: 20, Kind: ledger.KindHold})
	if err != nil {
		t.Fatal(err)
	}
	if e1.Seq != 1 || e2.Seq != 2 || e2.PrevHash != e1.Hash {
		t.Fatalf("bad chain: %+v %+v", e1, e2)
	}
	_, err = s.Append(ctx, ledger.Transfer{Debit: mem, Credit: ledger.Escrow, Amount: 3, Kind: ledger.KindHold})
	wantCode(t, err, ledger.ECONFLICT, "entry.insufficient")

	b, err := s.Balance(ctx, mem)
	if err != nil {
		t.Fatal(err)
	}
	if b.Points != 2 || b.ServiceMinutes != 135 || b.Entries != 2 || b.LastSeq != 2 {
		t.Fatalf("balance %+v", b)
	}
	list, err := s.AccountEntries(ctx, mem, 0, 10)
	if err != nil || len(list) != 2 || list[0].Seq != 2 || list[1].Seq != 1 || list[0].PrevHash != e1.Hash {
		t.Fatalf("account entries %+v %v", list, err)
	}
	page2, err := s.AccountEntries(ctx, mem, 2, 10)
	if err != nil || len(page2) != 1 || page2[0].Seq != 1 {
		t.Fatalf("second page %+v %v", page2, err)
	}
	_, err = s.AccountEntries(ctx, iss, 2, 10) // entry 2 does not touch the issuer
	wantCode(t, err, ledger.EINVALID, "entry.cursor_invalid")

	oct, _ := s.MonthTotals(ctx, 202610)
	nov, _ := s.MonthTotals(ctx, 202611)
	if len(oct) != 2 || len(nov) != 2 {
		t.Fatalf("months: oct %+v nov %+v", oct, nov)
	}
	for _, mt := range oct {
		if mt.Account == mem && (mt.In[ledger.KindEarn] != 22 || mt.Minutes != 135 || mt.Net() != 22) {
			t.Fatalf("october member totals %+v", mt)
		}
	}
	for _, mt := range nov {
		if mt.Account == mem && (mt.Out[ledger.KindHold] != 20 || mt.Net() != -20) {
			t.Fatalf("november member totals %+v", mt)
		}
	}
	all, err := s.Entries(ctx, 1, 10)
	if err != nil || len(all) != 1 || all[0].Seq != 2 || all[0].PrevHash != e1.Hash {
		t.Fatalf("entries after 1: %+v %v", all, err)
	}
	seq, head, _ := s.Head(ctx)
	if seq != 2 || head != e2.Hash {
		t.Fatalf("head %d %s", seq, head)
	}
}

func TestAppendRefusals(t *testing.T) {
	s := openTest(t, Options{})
	iss, mem := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	openAccounts(t, s, iss, mem)
	stranger := ledger.MemberAccount(uuid.New())
	tests := []struct {
		name      string
		tr        ledger.Transfer
		code, key string
	}{
		{"UnknownCredit", ledger.Transfer{Debit: iss, Credit: stranger, Amount: 1, Kind: ledger.KindEarn}, ledger.ENOTFOUND, "account.not_open"},
		{"UnknownDebit", ledger.Transfer{Debit: ledger.IssuerAccount(uuid.New()), Credit: mem, Amount: 1, Kind: ledger.KindEarn}, ledger.ENOTFOUND, "account.not_open"},
		{"ZeroAmount", ledger.Transfer{Debit: iss, Credit: mem, Amount: 0, Kind: ledger.KindEarn}, ledger.EINVALID, ""},
		{"Overdraw", ledger.Transfer{Debit: mem, Credit: ledger.Escrow, Amount: 1, Kind: ledger.KindHold}, ledger.ECONFLICT, "entry.insufficient"},
		{"EscrowOverdraw", ledger.Transfer{Debit: ledger.Escrow, Credit: mem, Amount: 1, Kind: ledger.KindRelease}, ledger.ECONFLICT, "entry.insufficient"},
		{"ReverseUnknown", ledger.Transfer{Debit: mem, Credit: iss, Amount: 1, Kind: ledger.KindReverse, Reverses: 99}, ledger.ENOTFOUND, "entry.not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(ctx, tt.tr)
			wantCode(t, err, tt.code, tt.key)
			if seq, _, _ := s.Head(ctx); seq != 0 {
				t.Fatalf("a refused transfer wrote entry %d", seq)
			}
		})
	}
}

func TestReverseOnce(t *testing.T) {
	s := openTest(t, Options{})
	iss, mem := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	openAccounts(t, s, iss, mem)
	e, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: mem, Amount: 10, Kind: ledger.KindEarn, Minutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Reverse(ctx, e.Seq, "admin", "wrong person", "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Reverses != e.Seq || r.Debit != mem || r.Amount != 10 {
		t.Fatalf("reverse %+v", r)
	}
	_, err = s.Reverse(ctx, e.Seq, "admin", "again", "")
	wantCode(t, err, ledger.ECONFLICT, "entry.already_reversed")
	if le, _ := ledger.AsError(err); le.Fields["reversed_by"] != r.Seq {
		t.Fatalf("reversed_by = %v", le.Fields)
	}
	_, err = s.Reverse(ctx, r.Seq, "admin", "undo the undo", "")
	wantCode(t, err, ledger.EINVALID, "entry.reverse_of_reverse")
	b, _ := s.Balance(ctx, mem)
	if b.Points != 0 || b.ServiceMinutes != 0 {
		t.Fatalf("after reverse: %+v", b)
	}
	// A reverse that would take the member below zero is refused.
	e2, _ := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: mem, Amount: 5, Kind: ledger.KindEarn})
	if _, err := s.Append(ctx, ledger.Transfer{Debit: mem, Credit: ledger.Escrow, Amount: 5, Kind: ledger.KindHold}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Reverse(ctx, e2.Seq, "admin", "", "")
	wantCode(t, err, ledger.ECONFLICT, "entry.insufficient")
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aixin.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("second open hung")
	}
}

func TestTimeZoneIsFixed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aixin.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{Location: time.UTC}); err == nil {
		t.Fatal("opened a Shanghai file in UTC")
	}
	s, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, ledger.Transfer{Debit: ledger.IssuerAccount(uuid.New()), Credit: ledger.MemberAccount(uuid.New()), Amount: 1, Kind: ledger.KindEarn}); ledger.ErrorCode(err) != ledger.EUNAVAILABLE {
		t.Fatalf("read-only append: %v", err)
	}
	s.Close()
}

func TestUsersAndSessions(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return now }})
	u, err := s.CreateUser(ctx, ledger.User{Login: "Admin", Role: ledger.RoleAdmin, PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateUser(ctx, ledger.User{Login: "admin", Role: ledger.RoleClerk, PasswordHash: "h"})
	wantCode(t, err, ledger.ECONFLICT, "user.login_taken")
	_, err = s.CreateUser(ctx, ledger.User{Login: "x y", Role: ledger.RoleClerk, PasswordHash: "h"})
	wantCode(t, err, ledger.EINVALID, "user.login_invalid")
	_, err = s.CreateUser(ctx, ledger.User{Login: "z", Role: "boss", PasswordHash: "h"})
	wantCode(t, err, ledger.EINVALID, "user.role_invalid")
	got, err := s.UserByLogin(ctx, " ADMIN ")
	if err != nil || got.ID != u.ID || got.PasswordHash != "h" {
		t.Fatalf("by login: %+v %v", got, err)
	}
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Fatalf("count %d", n)
	}
	tok := ledger.Hash{7}
	if err := s.CreateSession(ctx, ledger.Session{TokenHash: tok, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, tok, now); err != nil {
		t.Fatal(err)
	}
	_, err = s.Session(ctx, tok, now.Add(2*time.Hour))
	wantCode(t, err, ledger.EUNAUTHORIZED, "session.expired")
	if n, _ := s.DeleteExpiredSessions(ctx, now.Add(2*time.Hour)); n != 1 {
		t.Fatalf("expired sessions deleted: %d", n)
	}
	_ = s.CreateSession(ctx, ledger.Session{TokenHash: tok, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err := s.SetPassword(ctx, u.ID, "h2"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Session(ctx, tok, now)
	wantCode(t, err, ledger.EUNAUTHORIZED, "session.invalid")
}

func TestBackupIsConsistentCopy(t *testing.T) {
	s := openTest(t, Options{})
	iss, mem := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	openAccounts(t, s, iss, mem)
	for range 50 {
		if _, err := s.Append(ctx, ledger.Transfer{Debit: iss, Credit: mem, Amount: 3, Kind: ledger.KindEarn}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// Writers go on during the backup.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			_, _ = s.Append(ctx, ledger.Transfer{Debit: iss, Credit: mem, Amount: 1, Kind: ledger.KindEarn})
		}
	}()
	if _, err := s.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	<-done
	c, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep, err := c.Verify(ctx)
	if err != nil || !rep.OK || rep.Entries < 50 {
		t.Fatalf("copy: %+v %v", rep, err)
	}
}
