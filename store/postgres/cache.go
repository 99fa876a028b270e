package postgres

import (
	"time"

	"aixin/ledger"
)

// rowCache keeps the account rows and monthly totals rows that this app
// server's commit queue read or wrote, as of the chain head it last
// committed. Those rows change only with an entry, and every entry moves
// the chain head; so when a batch finds the head where this server left
// it, no other app server has written since, and the cached rows are the
// rows in the database: the batch takes them from memory instead of
// reading (and locking) them again. The chain head row, which every batch
// locks first, is what keeps two batches from changing them at once.
//
// Only the commit queue's goroutine uses it. It forgets everything when
// the head moved under it, when a batch fails (its outcome may be
// unknown), and when it grows past maxCachedRows.
type rowCache struct {
	valid    bool
	headSeq  uint64
	headHash ledger.Hash
	headTime time.Time
	accounts map[[ledger.AccountKeySize]byte]accountRow
	// months holds, for the accounts cached, the rows of the months read:
	// nil for a month in which the account has no row.
	months map[monthKey]*ledger.MonthTotals
}

// maxCachedRows bounds the cache: about 100 bytes an account row and 300 a
// month row, so at most a few hundred megabytes.
const maxCachedRows = 1 << 20

func (c *rowCache) reset() {
	c.valid = false
	c.accounts = nil
	c.months = nil
}

// matches says whether the cache holds the database as of head seq/hash.
func (c *rowCache) matches(seq uint64, hash ledger.Hash) bool {
	return c.valid && c.headSeq == seq && c.headHash == hash
}

// fill gives the batch account k's row and its rows of the months the
// batch has loaded, and reports whether the cache had them all.
func (c *rowCache) fill(st *batchState, k [ledger.AccountKeySize]byte, months []ledger.Month) bool {
	row, ok := c.accounts[k]
	if !ok {
		return false
	}
	for _, m := range months {
		if _, ok := c.months[monthKey{k, m}]; !ok {
			return false
		}
	}
	st.accounts[k] = &accountState{row: row}
	for _, m := range months {
		if t := c.months[monthKey{k, m}]; t != nil {
			cp := *t
			st.months[monthKey{k, m}] = &cp
		}
	}
	return true
}

// keep takes in what a committed batch read and wrote: the database as of
// its head.
func (c *rowCache) keep(st *batchState) {
	if !c.valid || len(c.accounts)+len(c.months) > maxCachedRows {
		c.accounts = map[[ledger.AccountKeySize]byte]accountRow{}
		c.months = map[monthKey]*ledger.MonthTotals{}
	}
	c.valid, c.headSeq, c.headHash, c.headTime = true, st.headSeq, st.headHash, st.headTime
	for k, a := range st.accounts {
		if a == nil {
			continue // not open when read: another server may open it
		}
		c.accounts[k] = a.row
		for m := range st.loaded {
			var cp *ledger.MonthTotals
			if t := st.months[monthKey{k, m}]; t != nil {
				v := *t
				cp = &v
			}
			c.months[monthKey{k, m}] = cp
		}
	}
}
