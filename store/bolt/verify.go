package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Verify implements ledger.Journal. In one read transaction it walks the
// journal in order, checks every entry's hash against the chain, its index
// links, its rules (well-formed, no account below zero that may not go there,
// reverses that match their target and happen once, open accounts), and
// rebuilds balances and monthly totals; then it compares the rebuilt state
// with the stored accounts, months, idempotency, reversal and head records.
// The report names the first mismatch by seq.
func (s *Store) Verify(ctx context.Context) (ledger.VerifyReport, error) {
	start := time.Now()
	var rep ledger.VerifyReport
	err := s.db.View(func(tx *bolt.Tx) error {
		rep = s.verifyTx(ctx, tx)
		return nil
	})
	rep.Elapsed = time.Since(start)
	return rep, err
}

// verifier accumulates the state rebuilt from the journal.
type verifier struct {
	accounts map[[ledger.AccountKeySize]byte]*accountRow
	months   map[string]*ledger.MonthTotals
	keyed    uint64 // entries with an idempotency key
	reverses uint64
}

func (s *Store) verifyTx(ctx context.Context, tx *bolt.Tx) ledger.VerifyReport {
	rep := ledger.VerifyReport{}
	fail := func(seq uint64, format string, args ...any) ledger.VerifyReport {
		rep.OK = false
		rep.FirstBadSeq = seq
		rep.Problem = fmt.Sprintf(format, args...)
		return rep
	}
	v := verifier{accounts: map[[ledger.AccountKeySize]byte]*accountRow{}, months: map[string]*ledger.MonthTotals{}}
	stored := tx.Bucket(bucketAccounts)
	if err := stored.ForEach(func(k, _ []byte) error {
		if len(k) == ledger.AccountKeySize {
			v.accounts[[ledger.AccountKeySize]byte(k)] = &accountRow{}
		}
		return nil
	}); err != nil {
		return fail(0, "reading accounts: %v", err)
	}

	var prev ledger.Hash
	var prevTime int64
	var seq uint64
	redeemed := newRedeemRows()
	served := newServedRows()
	c := tx.Bucket(bucketJournal).Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		seq++
		if seq%65536 == 0 && ctx.Err() != nil {
			return fail(seq, "verification cancelled: %v", ctx.Err())
		}
		if len(k) != 8 {
			return fail(seq, "journal key %x is not a seq", k)
		}
		if got := binary.BigEndian.Uint64(k); got != seq {
			return fail(seq, "entry %d is missing (next key is %d)", seq, got)
		}
		se, err := decodeStored(val)
		if err != nil {
			return fail(seq, "entry %d cannot be decoded: %v", seq, err)
		}
		if se.Seq != seq {
			return fail(seq, "entry stored at %d says it is %d", seq, se.Seq)
		}
		if ledger.ChainHash(prev, se.canonical) != se.Hash {
			return fail(seq, "entry %d does not match its hash (changed, or the chain before it was)", seq)
		}
		if se.Time.UnixNano() < prevTime {
			return fail(seq, "entry %d is dated before the entry preceding it", seq)
		}
		if err := se.Validate(); err != nil {
			return fail(seq, "entry %d breaks a rule: %v", seq, err)
		}
		if se.Kind == ledger.KindReverse {
			if se.Reverses >= seq {
				return fail(seq, "entry %d reverses a later entry %d", seq, se.Reverses)
			}
			orig, err := readStored(tx, se.Reverses)
			if err != nil {
				return fail(seq, "entry %d reverses missing entry %d", seq, se.Reverses)
			}
			if err := ledger.CheckReverse(se.Transfer, orig.Entry); err != nil {
				return fail(seq, "entry %d does not mirror entry %d", seq, se.Reverses)
			}
			by := tx.Bucket(bucketReversed).Get(u64(se.Reverses))
			if by == nil || binary.BigEndian.Uint64(by) != seq {
				return fail(seq, "the reversal record of entry %d does not name entry %d", se.Reverses, seq)
			}
			v.reverses++
		}
		if vo, sign, ok, err := redemptionOfEntry(tx, &se.Entry); err != nil {
			return fail(seq, "entry %d names a voucher that cannot be read: %v", seq, err)
		} else if ok {
			redeemed.add(vo, ledger.MonthOf(se.Time, s.loc), sign, se.Seq)
		}
		if att, ok, err := attendanceOfEntry(tx, &se.Entry); err != nil {
			return fail(seq, "entry %d names an attendance that cannot be read: %v", seq, err)
		} else if ok {
			served.add(&se.Entry, att, s.loc)
		}
		if se.IdempotencyKey != "" {
			rec := tx.Bucket(bucketIdem).Get(idemKey(se.IdempotencyKey))
			if len(rec) != 8 || binary.BigEndian.Uint64(rec) != seq {
				return fail(seq, "the idempotency record of entry %d is missing or names another entry", seq)
			}
			v.keyed++
		}
		for _, side := range []struct {
			a    ledger.Account
			link uint64
			sign int64
		}{{se.Debit, se.prevDebit, -1}, {se.Credit, se.prevCredit, 1}} {
			row, ok := v.accounts[side.a.Key()]
			if !ok {
				return fail(seq, "entry %d touches %s, which is not an open account", seq, side.a)
			}
			if side.link != row.lastSeq {
				return fail(seq, "entry %d's index link for %s is %d, want %d", seq, side.a, side.link, row.lastSeq)
			}
			row.balance += side.sign * se.Amount
			if row.balance < 0 && !side.a.MayGoNegative() {
				return fail(seq, "entry %d takes %s below zero", seq, side.a)
			}
			row.lastSeq = seq
			row.entries++
			row.minutes += ledger.ServiceMinutesDelta(&se.Entry, side.a)
			mk := string(monthKey(ledger.MonthOf(se.Time, s.loc), side.a))
			mt := v.months[mk]
			if mt == nil {
				mt = &ledger.MonthTotals{}
				v.months[mk] = mt
			}
			mt.Apply(&se.Entry, side.a)
		}
		prev, prevTime = se.Hash, se.Time.UnixNano()
	}
	rep.Entries, rep.HeadSeq, rep.HeadHash, rep.Accounts = seq, seq, prev, len(v.accounts)

	// The rebuilt state against the stored one.
	var headSeq uint64
	var headHash ledger.Hash
	var headTime int64
	if hv := tx.Bucket(bucketMeta).Get(keyHead); len(hv) == 48 {
		headSeq = binary.BigEndian.Uint64(hv)
		copy(headHash[:], hv[8:40])
		headTime = int64(binary.BigEndian.Uint64(hv[40:]))
	} else if hv != nil {
		return fail(seq, "the chain head record is damaged")
	}
	if headSeq != seq || headHash != prev || (seq > 0 && headTime != prevTime) {
		bad := seq
		if headSeq != seq { // entries after the recorded head, or missing before it
			bad = min(headSeq, seq) + 1
		}
		return fail(bad, "the recorded chain head (%d) does not match the journal's last entry (%d)", headSeq, seq)
	}
	var bad *ledger.VerifyReport
	monthRows := 0
	_ = stored.ForEach(func(k, val []byte) error {
		var r ledger.VerifyReport
		switch len(k) {
		case ledger.AccountKeySize:
			want := v.accounts[[ledger.AccountKeySize]byte(k)]
			a, aerr := ledger.AccountFromKey(k)
			got, gerr := decodeAccountRow(val)
			switch {
			case aerr != nil:
				r = fail(0, "the accounts bucket holds a row for %x, which is not an account", k)
			case gerr != nil:
				r = fail(want.lastSeq, "the balance row of %s is damaged", a)
			case got == *want:
				return nil
			default:
				r = fail(want.lastSeq, "account %s: stored balance %d/last %d/count %d/minutes %d, journal gives %d/%d/%d/%d",
					a, got.balance, got.lastSeq, got.entries, got.minutes, want.balance, want.lastSeq, want.entries, want.minutes)
			}
		case ledger.AccountKeySize + 4:
			monthRows++
			want := v.months[string(k)]
			if want != nil && bytes.Equal(val, encodeMonthRow(*want)) {
				return nil
			}
			r = fail(lastSeqOf(v, k), "monthly totals %x do not match the journal", k)
		default:
			r = fail(0, "accounts bucket: unexpected key %x", k)
		}
		bad = &r
		return errStop
	})
	if bad != nil {
		return *bad
	}
	if monthRows != len(v.months) {
		return fail(seq, "monthly totals: %d rows stored, the journal gives %d", monthRows, len(v.months))
	}
	if n := uint64(tx.Bucket(bucketIdem).Stats().KeyN); n != v.keyed {
		return fail(seq, "idempotency records: %d stored, the journal has %d keyed entries", n, v.keyed)
	}
	if n := uint64(tx.Bucket(bucketReversed).Stats().KeyN); n != v.reverses {
		return fail(seq, "reversal records: %d stored, the journal has %d reverses", n, v.reverses)
	}
	if problem := checkUserSessions(tx); problem != "" {
		return fail(seq, "%s", problem)
	}
	if ok, what := redeemed.equal(tx); !ok {
		return fail(seq, "%s do not match the journal's redemptions", what)
	}
	if ok, what := served.equal(tx); !ok {
		return fail(seq, "%s do not match the journal's service entries", what)
	}
	var sum ledger.Points
	for _, r := range v.accounts {
		sum += r.balance
	}
	if sum != 0 {
		return fail(seq, "the balances of all accounts sum to %d, not zero", sum)
	}
	if problem := checkOpenAttendances(tx); problem != "" {
		return fail(seq, "%s", problem)
	}
	rep.OK = true
	return rep
}

var errStop = fmt.Errorf("stop")

func lastSeqOf(v verifier, monthKey []byte) uint64 {
	if r := v.accounts[[ledger.AccountKeySize]byte(monthKey[:ledger.AccountKeySize])]; r != nil {
		return r.lastSeq
	}
	return 0
}

// checkOpenAttendances reports whether the index of who is checked in
// (openatt, the only thing the overdue sweep reads) names exactly the open
// attendances, one per member.
func checkOpenAttendances(tx *bolt.Tx) string {
	want := map[uuid.UUID]uuid.UUID{} // member -> open attendance
	problem := ""
	if err := tx.Bucket(bucketAttendances).ForEach(func(_, val []byte) error {
		var a ledger.Attendance
		if err := json.Unmarshal(val, &a); err != nil {
			return err
		}
		if a.Status == ledger.AttendanceOpen {
			if other, ok := want[a.MemberID]; ok {
				problem = fmt.Sprintf("member %s has two open attendances, %s and %s", a.MemberID, other, a.ID)
				return errStop
			}
			want[a.MemberID] = a.ID
		}
		return nil
	}); err != nil && problem == "" {
		return "the attendances cannot be read: " + err.Error()
	}
	if problem != "" {
		return problem
	}
	n := 0
	_ = tx.Bucket(bucketOpenAtt).ForEach(func(k, val []byte) error {
		n++
		if len(k) != 16 || len(val) != 16 || want[uuid.UUID(k)] != uuid.UUID(val) {
			problem = fmt.Sprintf("the index of who is checked in names %x for %x, which is not their open attendance", val, k)
			return errStop
		}
		return nil
	})
	if problem == "" && n != len(want) {
		problem = fmt.Sprintf("the index of who is checked in has %d rows, there are %d open attendances", n, len(want))
	}
	return problem
}
