package bolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

const (
	accountRowSize = 32
	linkSize       = 16 // two prev-seq links after the hash in a journal value
	hashSize       = len(ledger.Hash{})
)

// accountRow is the decoded value of the accounts bucket.
type accountRow struct {
	balance ledger.Points
	lastSeq uint64
	entries uint64
	minutes int64
}

// maxClockStepBack is how far the clock may be behind the newest entry's
// time before appends are refused.
const maxClockStepBack = 5 * time.Minute

// errBadAccountRow reports a damaged balance row.
var errBadAccountRow = errors.New("malformed account row")

func decodeAccountRow(v []byte) (accountRow, error) {
	if len(v) != accountRowSize {
		return accountRow{}, errBadAccountRow
	}
	return accountRow{
		balance: int64(binary.BigEndian.Uint64(v)),
		lastSeq: binary.BigEndian.Uint64(v[8:]),
		entries: binary.BigEndian.Uint64(v[16:]),
		minutes: int64(binary.BigEndian.Uint64(v[24:])),
	}, nil
}

func (r accountRow) encode() []byte {
	b := make([]byte, 0, accountRowSize)
	b = binary.BigEndian.AppendUint64(b, uint64(r.balance))
	b = binary.BigEndian.AppendUint64(b, r.lastSeq)
	b = binary.BigEndian.AppendUint64(b, r.entries)
	return binary.BigEndian.AppendUint64(b, uint64(r.minutes))
}

func monthKey(m ledger.Month, a ledger.Account) []byte {
	k := a.Key()
	return binary.BigEndian.AppendUint32(k[:], uint32(m))
}

// A monthly totals row (schema 13 on) is varints: the number of entry kinds
// it counts (n), In[0..n), Out[0..n), minutes, wish points, then the entry
// count as a uvarint. A row written when there were fewer kinds reads with
// the later kinds zero, so a new kind needs no rewrite of the rows.
func decodeMonthRow(m ledger.Month, a ledger.Account, v []byte) (ledger.MonthTotals, error) {
	t := ledger.MonthTotals{Month: m, Account: a}
	n, w := binary.Uvarint(v)
	if w <= 0 || n == 0 || n > ledger.NumKinds {
		return t, errBadRow
	}
	v = v[w:]
	fields := make([]*int64, 0, 2*n+2)
	for k := range n {
		fields = append(fields, &t.In[k])
	}
	for k := range n {
		fields = append(fields, &t.Out[k])
	}
	fields = append(fields, &t.Minutes, &t.Wish)
	for _, f := range fields {
		x, w := binary.Varint(v)
		if w <= 0 {
			return t, errBadRow
		}
		*f, v = x, v[w:]
	}
	e, w := binary.Uvarint(v)
	if w <= 0 || w != len(v) {
		return t, errBadRow
	}
	t.Entries = e
	return t, nil
}

var errBadRow = errors.New("malformed monthly totals row")

func encodeMonthRow(t ledger.MonthTotals) []byte {
	b := make([]byte, 0, 40)
	b = binary.AppendUvarint(b, ledger.NumKinds)
	for k := range ledger.NumKinds {
		b = binary.AppendVarint(b, t.In[k])
	}
	for k := range ledger.NumKinds {
		b = binary.AppendVarint(b, t.Out[k])
	}
	b = binary.AppendVarint(b, t.Minutes)
	b = binary.AppendVarint(b, t.Wish)
	return binary.AppendUvarint(b, t.Entries)
}

// decodeMonthRowV1 reads a monthly totals row as schemas 1 to 12 wrote it:
// eight kinds, no count, no wish points (migration 13 rewrites them).
func decodeMonthRowV1(m ledger.Month, a ledger.Account, v []byte) (ledger.MonthTotals, error) {
	t := ledger.MonthTotals{Month: m, Account: a}
	const kinds = 8
	fields := make([]*int64, 0, 2*kinds+1)
	for k := range kinds {
		fields = append(fields, &t.In[k])
	}
	for k := range kinds {
		fields = append(fields, &t.Out[k])
	}
	fields = append(fields, &t.Minutes)
	for _, f := range fields {
		x, w := binary.Varint(v)
		if w <= 0 {
			return t, errBadRow
		}
		*f, v = x, v[w:]
	}
	e, w := binary.Uvarint(v)
	if w <= 0 || w != len(v) {
		return t, errBadRow
	}
	t.Entries = e
	return t, nil
}

// rewriteMonthRows is migration 13: every monthly totals row from the
// layout of schemas 1 to 12 to today's. An old row starts with In[0], which
// is always zero (no entry kind is 0), a new one with its count of kinds:
// rows already new are left as they are. The rows are read first and
// written after, as bbolt does not allow writes while a cursor walks the bucket.
func rewriteMonthRows(tx *bolt.Tx, _ *Store) error {
	b := tx.Bucket(bucketAccounts)
	type row struct{ k, v []byte }
	var rows []row
	err := b.ForEach(func(k, v []byte) error {
		if len(k) != ledger.AccountKeySize+4 || (len(v) > 0 && v[0] != 0) {
			return nil
		}
		a, err := ledger.AccountFromKey(k[:ledger.AccountKeySize])
		if err != nil {
			return fmt.Errorf("accounts bucket: key %x: %w", k, err)
		}
		m := ledger.Month(binary.BigEndian.Uint32(k[ledger.AccountKeySize:]))
		t, err := decodeMonthRowV1(m, a, v)
		if err != nil {
			return fmt.Errorf("monthly totals of %s in %s: %w", a, m, err)
		}
		rows = append(rows, row{bytes.Clone(k), encodeMonthRow(t)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := b.Put(r.k, r.v); err != nil {
			return err
		}
	}
	return nil
}

// storedEntry is a decoded journal value.
type storedEntry struct {
	ledger.Entry
	canonical             []byte
	prevDebit, prevCredit uint64
}

// decodeStored decodes a journal value; the entry's PrevHash is left zero.
func decodeStored(v []byte) (storedEntry, error) {
	if len(v) < hashSize+linkSize {
		return storedEntry{}, ledger.Errorf(ledger.EINVALID, "entry.encoding_invalid")
	}
	n := len(v) - hashSize - linkSize
	e, err := ledger.DecodeCanonical(v[:n])
	if err != nil {
		return storedEntry{}, err
	}
	copy(e.Hash[:], v[n:])
	return storedEntry{
		Entry:      e,
		canonical:  v[:n],
		prevDebit:  binary.BigEndian.Uint64(v[n+hashSize:]),
		prevCredit: binary.BigEndian.Uint64(v[n+hashSize+8:]),
	}, nil
}

// prevOf returns the seq of a's previous entry, following the index chain.
func (se *storedEntry) prevOf(a ledger.Account) uint64 {
	if se.Debit == a {
		return se.prevDebit
	}
	return se.prevCredit
}

// idemKey places a client's key that is a canonical UUID by the UUID's own
// bytes, then the user's (UUIDv7 keys, as aixin's pages send, sort by time,
// so they append), a bare canonical UUID (as clients' keys were stored before
// they had namespaces) by its bytes, and any other key by its SHA-256.
func idemKey(key string) []byte {
	if user, k, ok := ledger.ParseClientKey(key); ok {
		if u, ok := canonicalUUID(k); ok {
			return append(append([]byte{3}, u[:]...), user[:]...)
		}
	}
	if u, ok := canonicalUUID(key); ok {
		return append([]byte{1}, u[:]...)
	}
	h := sha256.Sum256([]byte(key))
	return append([]byte{2}, h[:]...)
}

// canonicalUUID parses s if it is a UUID in its canonical lower-case form.
func canonicalUUID(s string) (uuid.UUID, bool) {
	if len(s) != 36 || strings.ToLower(s) != s {
		return uuid.Nil, false
	}
	u, err := uuid.Parse(s)
	return u, err == nil
}

// OpenAccount implements ledger.Journal.
func (s *Store) OpenAccount(ctx context.Context, a ledger.Account) error {
	if !a.Valid() {
		return ledger.Errorf(ledger.EINVALID, "account.invalid", a.String())
	}
	k := a.Key()
	exists := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		exists = tx.Bucket(bucketAccounts).Get(k[:]) != nil
		return nil
	})
	if exists {
		return nil
	}
	return s.update(ctx, func(w *writeTx) error {
		b := w.tx.Bucket(bucketAccounts)
		if b.Get(k[:]) != nil {
			return nil
		}
		return b.Put(k[:], make([]byte, accountRowSize))
	})
}

// Append implements ledger.Journal.
func (s *Store) Append(ctx context.Context, t ledger.Transfer) (ledger.Entry, error) {
	if err := t.Validate(); err != nil {
		return ledger.Entry{}, err
	}
	var e ledger.Entry
	err := s.update(ctx, func(w *writeTx) error {
		if t.Kind == ledger.KindReverse {
			if err := refuseVoucherEntry(w.tx, t.Reverses); err != nil {
				return err
			}
		}
		var err error
		e, err = s.appendTx(w, t)
		return err
	})
	return e, err
}

// refuseVoucherEntry refuses a bare reverse of an entry of a voucher (its
// hold, redemption or release): the voucher, the stock, the held points
// and the monthly redemption rows would no longer agree with the journal.
// A mistaken redemption is undone with ReverseRedemption, which writes them
// all in one transaction.
func refuseVoucherEntry(tx *bolt.Tx, seq uint64) error {
	v := tx.Bucket(bucketJournal).Get(u64(seq))
	if v == nil {
		return nil // appendTx says it is not found
	}
	orig, err := decodeStored(v)
	if err != nil {
		return err
	}
	ref, ok := strings.CutPrefix(orig.Reference, "voucher:")
	if !ok {
		return nil
	}
	if id, err := uuid.Parse(ref); err == nil && tx.Bucket(bucketVouchers).Get(id[:]) != nil {
		return ledger.Errorf(ledger.EINVALID, "entry.reverse_voucher", seq)
	}
	return nil
}

// Reverse implements ledger.Journal.
func (s *Store) Reverse(ctx context.Context, seq uint64, actor, memo, key string) (ledger.Entry, error) {
	var e ledger.Entry
	err := s.update(ctx, func(w *writeTx) error {
		v := w.journal.Get(u64(seq))
		if v == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "entry.not_found", seq)
		}
		orig, err := decodeStored(v)
		if err != nil {
			return err
		}
		if err := refuseVoucherEntry(w.tx, seq); err != nil {
			return err
		}
		t, err := ledger.Reverse(orig.Entry, actor, memo, key)
		if err != nil {
			return err
		}
		e, err = s.appendTx(w, t)
		return err
	})
	return e, err
}

// appendTx decides and appends one transfer inside a batch. It reads and
// checks everything first and writes only when the transfer is accepted.
func (s *Store) appendTx(w *writeTx, t ledger.Transfer) (ledger.Entry, error) {
	tx := w.tx
	var idem []byte
	if t.IdempotencyKey != "" {
		idem = idemKey(t.IdempotencyKey)
		if v := w.idem.Get(idem); v != nil {
			if len(v) != 8 {
				return ledger.Entry{}, errors.New("malformed idempotency record")
			}
			first, err := readStored(tx, binary.BigEndian.Uint64(v))
			if err != nil {
				return ledger.Entry{}, err
			}
			if first.Fingerprint() != t.Fingerprint() {
				return ledger.Entry{}, ledger.Errorf(ledger.ECONFLICT, "idempotency.mismatch")
			}
			return first.Entry, nil
		}
	}
	if t.Kind == ledger.KindReverse {
		v := w.journal.Get(u64(t.Reverses))
		if v == nil {
			return ledger.Entry{}, ledger.Errorf(ledger.ENOTFOUND, "entry.not_found", t.Reverses)
		}
		orig, err := decodeStored(v)
		if err != nil {
			return ledger.Entry{}, err
		}
		if err := ledger.CheckReverse(t, orig.Entry); err != nil {
			return ledger.Entry{}, err
		}
		if by := tx.Bucket(bucketReversed).Get(u64(t.Reverses)); by != nil {
			return ledger.Entry{}, ledger.Errorf(ledger.ECONFLICT, "entry.already_reversed", t.Reverses).
				With("reversed_by", binary.BigEndian.Uint64(by))
		}
	}
	accounts := tx.Bucket(bucketAccounts)
	dk, ck := t.Debit.Key(), t.Credit.Key()
	dv, cv := accounts.Get(dk[:]), accounts.Get(ck[:])
	if dv == nil {
		return ledger.Entry{}, ledger.Errorf(ledger.ENOTFOUND, "account.not_open", t.Debit.String())
	}
	if cv == nil {
		return ledger.Entry{}, ledger.Errorf(ledger.ENOTFOUND, "account.not_open", t.Credit.String())
	}
	drow, err := decodeAccountRow(dv)
	if err != nil {
		return ledger.Entry{}, err
	}
	crow, err := decodeAccountRow(cv)
	if err != nil {
		return ledger.Entry{}, err
	}

	id, err := uuid.NewV7()
	if err != nil {
		return ledger.Entry{}, err
	}
	now := s.now()
	if now.Before(w.headTime) {
		// Entry times never go backwards along the chain. A small step back
		// of the clock (a time sync) is absorbed; a large one means the clock
		// or the last entry's time is wrong, and writing on would misdate
		// every entry to come.
		if w.headTime.Sub(now) > maxClockStepBack {
			return ledger.Entry{}, ledger.Errorf(ledger.EUNAVAILABLE, "store.clock_behind")
		}
		now = w.headTime
	}
	seq := w.headSeq + 1
	e, err := ledger.Post(t, drow.balance, crow.balance, seq, id, now, w.headHash)
	if err != nil {
		return ledger.Entry{}, err
	}

	// Accepted: from here on, only writes.
	canon := e.Canonical()
	v := make([]byte, 0, len(canon)+hashSize+linkSize)
	v = append(v, canon...)
	v = append(v, e.Hash[:]...)
	v = binary.BigEndian.AppendUint64(v, drow.lastSeq)
	v = binary.BigEndian.AppendUint64(v, crow.lastSeq)
	if err := w.journal.Put(u64(seq), v); err != nil {
		return ledger.Entry{}, err
	}
	drow.balance -= t.Amount
	crow.balance += t.Amount
	for _, side := range []struct {
		a   ledger.Account
		k   []byte
		row *accountRow
	}{{t.Debit, dk[:], &drow}, {t.Credit, ck[:], &crow}} {
		side.row.lastSeq = seq
		side.row.entries++
		side.row.minutes += ledger.ServiceMinutesDelta(&e, side.a)
		if err := accounts.Put(side.k, side.row.encode()); err != nil {
			return ledger.Entry{}, err
		}
		if err := addToMonth(tx, s.loc, &e, side.a); err != nil {
			return ledger.Entry{}, err
		}
	}
	if idem != nil {
		if err := w.idem.Put(idem, u64(seq)); err != nil {
			return ledger.Entry{}, err
		}
	}
	if t.Kind == ledger.KindReverse {
		if err := tx.Bucket(bucketReversed).Put(u64(t.Reverses), u64(seq)); err != nil {
			return ledger.Entry{}, err
		}
	}
	w.headSeq, w.headHash, w.headTime = seq, e.Hash, e.Time
	w.appended++
	return e, nil
}

func addToMonth(tx *bolt.Tx, loc *time.Location, e *ledger.Entry, a ledger.Account) error {
	m := ledger.MonthOf(e.Time, loc)
	b := tx.Bucket(bucketAccounts)
	k := monthKey(m, a)
	t := ledger.MonthTotals{Month: m, Account: a}
	if v := b.Get(k); v != nil {
		var err error
		if t, err = decodeMonthRow(m, a, v); err != nil {
			return err
		}
	}
	t.Apply(e, a)
	return b.Put(k, encodeMonthRow(t))
}

// readStored reads entry seq with its PrevHash filled in from entry seq-1.
func readStored(tx *bolt.Tx, seq uint64) (storedEntry, error) {
	j := tx.Bucket(bucketJournal)
	v := j.Get(u64(seq))
	if v == nil {
		return storedEntry{}, ledger.Errorf(ledger.ENOTFOUND, "entry.not_found", seq)
	}
	se, err := decodeStored(v)
	if err != nil {
		return storedEntry{}, err
	}
	if seq > 1 {
		if pv := j.Get(u64(seq - 1)); len(pv) >= hashSize+linkSize {
			copy(se.PrevHash[:], pv[len(pv)-hashSize-linkSize:])
		}
	}
	return se, nil
}

func readEntry(tx *bolt.Tx, seq uint64) (ledger.Entry, error) {
	se, err := readStored(tx, seq)
	return se.Entry, err
}

// Balance implements ledger.Journal.
func (s *Store) Balance(ctx context.Context, a ledger.Account) (ledger.Balance, error) {
	k := a.Key()
	var b ledger.Balance
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAccounts).Get(k[:])
		if v == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "account.not_open", a.String())
		}
		r, err := decodeAccountRow(v)
		if err != nil {
			return err
		}
		b = ledger.Balance{Account: a, Points: r.balance, Entries: r.entries, LastSeq: r.lastSeq, ServiceMinutes: r.minutes}
		return nil
	})
	return b, err
}

// AccountEntries implements ledger.Journal.
func (s *Store) AccountEntries(ctx context.Context, a ledger.Account, before uint64, limit int) ([]ledger.Entry, error) {
	k := a.Key()
	var out []ledger.Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAccounts).Get(k[:])
		if v == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "account.not_open", a.String())
		}
		row, err := decodeAccountRow(v)
		if err != nil {
			return err
		}
		next := row.lastSeq
		if before != 0 {
			se, err := readStored(tx, before)
			if err != nil || (se.Debit != a && se.Credit != a) {
				return ledger.Errorf(ledger.EINVALID, "entry.cursor_invalid", before)
			}
			next = se.prevOf(a)
		}
		for next != 0 && len(out) < limit {
			se, err := readStored(tx, next)
			if err != nil {
				return err
			}
			out = append(out, se.Entry)
			next = se.prevOf(a)
		}
		return nil
	})
	return out, err
}

// Entries implements ledger.Journal.
func (s *Store) Entries(ctx context.Context, after uint64, limit int) ([]ledger.Entry, error) {
	var out []ledger.Entry
	if after == math.MaxUint64 {
		return nil, nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		var prev ledger.Hash
		if after > 0 {
			if v := tx.Bucket(bucketJournal).Get(u64(after)); len(v) >= hashSize+linkSize {
				copy(prev[:], v[len(v)-hashSize-linkSize:])
			}
		}
		c := tx.Bucket(bucketJournal).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			se, err := decodeStored(v)
			if err != nil {
				return err
			}
			se.PrevHash = prev
			prev = se.Hash
			out = append(out, se.Entry)
		}
		return nil
	})
	return out, err
}

// Head implements ledger.Journal.
func (s *Store) Head(ctx context.Context) (uint64, ledger.Hash, error) {
	var seq uint64
	var h ledger.Hash
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyHead); len(v) == 48 {
			seq = binary.BigEndian.Uint64(v)
			copy(h[:], v[8:40])
		}
		return nil
	})
	return seq, h, err
}

// MonthTotals implements ledger.Journal. It visits each account once and
// seeks to that account's row for the month.
func (s *Store) MonthTotals(ctx context.Context, m ledger.Month) ([]ledger.MonthTotals, error) {
	var out []ledger.MonthTotals
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAccounts).Cursor()
		for k, _ := c.First(); k != nil; {
			if len(k) != ledger.AccountKeySize {
				return fmt.Errorf("accounts bucket: unexpected key %x", k)
			}
			a, err := ledger.AccountFromKey(k)
			if err != nil {
				return err
			}
			want := monthKey(m, a)
			if mk, mv := c.Seek(want); bytes.Equal(mk, want) {
				t, err := decodeMonthRow(m, a, mv)
				if err != nil {
					return err
				}
				out = append(out, t)
			}
			// Past this account's last month row: the next account's balance row.
			k, _ = c.Seek(append(want[:ledger.AccountKeySize:ledger.AccountKeySize], 0xff, 0xff, 0xff, 0xff, 0xff))
		}
		return ctx.Err()
	})
	return out, err
}

// Backup implements ledger.Journal: it writes a consistent snapshot of the
// whole file from one read transaction, while writers go on.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	return n, err
}

// ctxWriter stops a copy when its context ends, so that a stalled download
// does not hold a read transaction (and so a clean shutdown) forever.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	runtime.Gosched() // requests waiting to run go first: a backup is in no hurry
	return c.w.Write(p)
}

// unhurried is called by long reads (a report over every member) at each
// step i: every 256 steps it lets requests waiting to run go first, since a
// report is in no hurry and a volunteer at the door is (more often, and an
// organiser's first look at the dashboard on a busy morning waits too long:
// 0.9 s at every 64 over 10,000 members); every 1024 it stops if the caller
// has gone.
func unhurried(ctx context.Context, i int) error {
	if i%256 != 0 {
		return nil
	}
	runtime.Gosched()
	if i%1024 == 0 {
		return ctx.Err()
	}
	return nil
}

// OpenAccounts returns every open account, in key order (for copying the
// journal to another engine).
func (s *Store) OpenAccounts(ctx context.Context) ([]ledger.Account, error) {
	var out []ledger.Account
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccounts).ForEach(func(k, _ []byte) error {
			if len(k) != ledger.AccountKeySize {
				return nil // a monthly totals row
			}
			a, err := ledger.AccountFromKey(k)
			if err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}
