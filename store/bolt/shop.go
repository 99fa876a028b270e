package bolt

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"aixin/ledger"
	"aixin/store"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// storedVoucher keeps the idempotency keys of the redemption and of its
// reversal, which the API never shows.
type storedVoucher struct {
	ledger.Voucher
	Key        string `json:"redeem_key,omitempty"`
	ReverseKey string `json:"reverse_key,omitempty"`
}

func getVoucher(tx *bolt.Tx, id uuid.UUID) (ledger.Voucher, error) {
	sv, err := getJSON[storedVoucher](tx.Bucket(bucketVouchers), id, "voucher.not_found")
	sv.Voucher.RedeemKey, sv.Voucher.ReverseKey = sv.Key, sv.ReverseKey
	return sv.Voucher, err
}

func putVoucher(tx *bolt.Tx, v ledger.Voucher) error {
	return putJSON(tx.Bucket(bucketVouchers), v.ID, storedVoucher{v, v.RedeemKey, v.ReverseKey})
}

// CreateShop implements ledger.Shops. The shop's points account opens with it.
func (s *Store) CreateShop(ctx context.Context, sh ledger.Shop) (ledger.Shop, error) {
	if err := sh.Check(); err != nil {
		return sh, err
	}
	sh.ID, sh.CreatedAt = newID(), s.now().UTC()
	err := s.update(ctx, func(w *writeTx) error {
		if w.tx.Bucket(bucketUnits).Get(sh.UnitID[:]) == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "unit.not_found")
		}
		k := ledger.ShopAccount(sh.ID).Key()
		if err := w.tx.Bucket(bucketAccounts).Put(k[:], make([]byte, accountRowSize)); err != nil {
			return err
		}
		return putJSON(w.tx.Bucket(bucketShops), sh.ID, sh)
	})
	return sh, err
}

// Shop implements ledger.Shops.
func (s *Store) Shop(ctx context.Context, id uuid.UUID) (ledger.Shop, error) {
	return viewJSON[ledger.Shop](s, bucketShops, id, "shop.not_found")
}

// Shops implements ledger.Shops.
func (s *Store) Shops(ctx context.Context) ([]ledger.Shop, error) {
	return listJSON[ledger.Shop](s, bucketShops)
}

// CreateItem implements ledger.Shops. Stock arrives by MoveStock.
func (s *Store) CreateItem(ctx context.Context, it ledger.Item) (ledger.Item, error) {
	if err := it.Check(); err != nil {
		return it, err
	}
	it.ID, it.CreatedAt, it.OnHand, it.Reserved = newID(), s.now().UTC(), 0, 0
	err := s.update(ctx, func(w *writeTx) error {
		if w.tx.Bucket(bucketShops).Get(it.ShopID[:]) == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "shop.not_found")
		}
		if err := w.tx.Bucket(bucketShopItems).Put(pairKey(it.ShopID, it.ID), nil); err != nil {
			return err
		}
		return putJSON(w.tx.Bucket(bucketItems), it.ID, it)
	})
	return it, err
}

// UpdateItem implements ledger.Shops: name, price, monthly limit and
// whether it is offered; stock changes only by MoveStock.
func (s *Store) UpdateItem(ctx context.Context, it ledger.Item) (ledger.Item, error) {
	if err := it.Check(); err != nil {
		return it, err
	}
	var out ledger.Item
	err := s.update(ctx, func(w *writeTx) error {
		var err error
		if out, err = getJSON[ledger.Item](w.tx.Bucket(bucketItems), it.ID, "item.not_found"); err != nil {
			return err
		}
		out.Name, out.Points, out.MonthlyLimit, out.Active = it.Name, it.Points, it.MonthlyLimit, it.Active
		return putJSON(w.tx.Bucket(bucketItems), out.ID, out)
	})
	return out, err
}

// Item implements ledger.Shops.
func (s *Store) Item(ctx context.Context, id uuid.UUID) (ledger.Item, error) {
	return viewJSON[ledger.Item](s, bucketItems, id, "item.not_found")
}

// Items implements ledger.Shops.
func (s *Store) Items(ctx context.Context, shopID uuid.UUID) ([]ledger.Item, error) {
	var out []ledger.Item
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketShopItems).Cursor()
		for k, _ := c.Seek(shopID[:]); k != nil && bytes.HasPrefix(k, shopID[:]); k, _ = c.Next() {
			it, err := getJSON[ledger.Item](tx.Bucket(bucketItems), uuid.UUID(k[16:]), "item.not_found")
			if err != nil {
				return err
			}
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

// MoveStock implements ledger.Shops: the move checked, the item read and
// ledger.DecideStockMove's item stored with the move.
func (s *Store) MoveStock(ctx context.Context, m ledger.StockMove) (ledger.Item, error) {
	if err := m.Check(); err != nil {
		return ledger.Item{}, err
	}
	m.ID, m.At = newID(), s.now().UTC()
	var it ledger.Item
	err := s.update(ctx, func(w *writeTx) error {
		old, err := getJSON[ledger.Item](w.tx.Bucket(bucketItems), m.ItemID, "item.not_found")
		if err != nil {
			return err
		}
		if it, err = ledger.DecideStockMove(old, m); err != nil {
			return err
		}
		if err := s.addStockMove(w.tx, it.ShopID, m); err != nil {
			return err
		}
		return putJSON(w.tx.Bucket(bucketItems), it.ID, it)
	})
	return it, err
}

// maxPicture bounds an item's picture.
const maxPicture = 512 << 10

// SetItemPicture implements ledger.Shops: a PNG, JPEG or WebP of at most 512 KiB.
func (s *Store) SetItemPicture(ctx context.Context, id uuid.UUID, contentType string, data []byte) error {
	switch {
	case len(data) == 0:
		return ledger.Errorf(ledger.EINVALID, "item.picture_empty")
	case len(data) > maxPicture:
		return ledger.Errorf(ledger.EINVALID, "item.picture_size", (len(data)+1023)>>10, maxPicture>>10)
	case contentType != "image/png" && contentType != "image/jpeg" && contentType != "image/webp":
		return ledger.Errorf(ledger.EINVALID, "item.picture_type")
	}
	v := append([]byte(contentType+"\n"), data...)
	sum := sha256.Sum256(data)
	return s.update(ctx, func(w *writeTx) error {
		it, err := getJSON[ledger.Item](w.tx.Bucket(bucketItems), id, "item.not_found")
		if err != nil {
			return err
		}
		it.Picture = hex.EncodeToString(sum[:6])
		if err := putJSON(w.tx.Bucket(bucketItems), id, it); err != nil {
			return err
		}
		return w.tx.Bucket(bucketPictures).Put(id[:], v)
	})
}

// ItemPicture implements ledger.Shops.
func (s *Store) ItemPicture(ctx context.Context, id uuid.UUID) (string, []byte, error) {
	var ctype string
	var data []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPictures).Get(id[:])
		i := bytes.IndexByte(v, '\n')
		if v == nil || i < 0 {
			return ledger.Errorf(ledger.ENOTFOUND, "item.no_picture")
		}
		ctype, data = string(v[:i]), bytes.Clone(v[i+1:])
		return nil
	})
	return ctype, data, err
}

// StockMoves implements ledger.Shops.
func (s *Store) StockMoves(ctx context.Context, itemID uuid.UUID) ([]ledger.StockMove, error) {
	var out []ledger.StockMove
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketItemMoves).Cursor()
		for k, _ := c.Seek(itemID[:]); k != nil && bytes.HasPrefix(k, itemID[:]); k, _ = c.Next() {
			m, err := getJSON[ledger.StockMove](tx.Bucket(bucketStockMoves), uuid.UUID(k[16:]), "stock.not_found")
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// addStockMove stores a stock move of an item of shop with its item's
// index, and a move that is not a redemption's with its shop's index by
// month too.
func (s *Store) addStockMove(tx *bolt.Tx, shop uuid.UUID, m ledger.StockMove) error {
	if err := putJSON(tx.Bucket(bucketStockMoves), m.ID, m); err != nil {
		return err
	}
	if err := tx.Bucket(bucketItemMoves).Put(pairKey(m.ItemID, m.ID), nil); err != nil {
		return err
	}
	if m.Kind == ledger.StockRedeem {
		return nil
	}
	return tx.Bucket(bucketShopMoves).Put(append(yyyymm(shop, ledger.MonthOf(m.At, s.loc)), m.ID[:]...), nil)
}

// rebuildShopMoves fills the shops' index of stock moves by month from the
// moves and their items (migration 12).
func (s *Store) rebuildShopMoves(tx *bolt.Tx) error {
	items, idx := tx.Bucket(bucketItems), tx.Bucket(bucketShopMoves)
	return tx.Bucket(bucketStockMoves).ForEach(func(k, v []byte) error {
		var m ledger.StockMove
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("stock move %x: %w", k, err)
		}
		if m.Kind == ledger.StockRedeem {
			return nil
		}
		it, err := getJSON[ledger.Item](items, m.ItemID, "item.not_found")
		if err != nil {
			return fmt.Errorf("the item of stock move %s: %w", m.ID, err)
		}
		return idx.Put(append(yyyymm(it.ShopID, ledger.MonthOf(m.At, s.loc)), m.ID[:]...), nil)
	})
}

// ShopStockMoves implements ledger.Shops: one prefix scan of the shop's
// month in the index, and each move.
func (s *Store) ShopStockMoves(ctx context.Context, shopID uuid.UUID, m ledger.Month) ([]ledger.StockMove, error) {
	out := []ledger.StockMove{}
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketShops).Get(shopID[:]) == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "shop.not_found")
		}
		prefix := yyyymm(shopID, m)
		c, moves := tx.Bucket(bucketShopMoves).Cursor(), tx.Bucket(bucketStockMoves)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			mv, err := getJSON[ledger.StockMove](moves, uuid.UUID(k[20:]), "stock.not_found")
			if err != nil {
				return err
			}
			out = append(out, mv)
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b ledger.StockMove) int { return a.At.Compare(b.At) })
	return out, err
}

// monthCountKey is member | item | yyyymm: how many of an item a member
// took on vouchers in a month (for monthly limits).
func monthCountKey(member, item uuid.UUID, m ledger.Month) []byte {
	return binary.BigEndian.AppendUint32(pairKey(member, item), uint32(m))
}

func addCount(b *bolt.Bucket, k []byte, delta int64) error {
	var n int64
	if v := b.Get(k); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	return b.Put(k, binary.BigEndian.AppendUint64(nil, uint64(max(0, n+delta))))
}

func getCount(b *bolt.Bucket, k []byte) int64 {
	if v := b.Get(k); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// Taken implements ledger.Shops.
func (s *Store) Taken(ctx context.Context, memberID uuid.UUID, items []uuid.UUID) (map[uuid.UUID]int, error) {
	out := make(map[uuid.UUID]int, len(items))
	month := ledger.MonthOf(s.now(), s.loc)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMemberItemMonth)
		for _, id := range items {
			if n := getCount(b, monthCountKey(memberID, id, month)); n > 0 {
				out[id] = int(n)
			}
		}
		return nil
	})
	return out, err
}

// Held returns the points a member has in open vouchers.
func (s *Store) Held(ctx context.Context, memberID uuid.UUID) (ledger.Points, error) {
	var n ledger.Points
	err := s.db.View(func(tx *bolt.Tx) error {
		n = getCount(tx.Bucket(bucketMemberHeld), memberID[:])
		return nil
	})
	return n, err
}

func expiryKey(v ledger.Voucher) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(v.ExpiresAt.UnixNano())), v.ID[:]...)
}

// IssueVoucher implements ledger.Shops: a voucher paid from the member's own points.
func (s *Store) IssueVoucher(ctx context.Context, memberID, shopID uuid.UUID, req []ledger.VoucherRequestLine, by uuid.UUID, presence ledger.PresenceMethod, key string) (ledger.Voucher, error) {
	return s.issueVoucher(ctx, memberID, uuid.Nil, shopID, req, by, presence, key)
}

// IssueHouseholdVoucher implements ledger.Households: a voucher paid from
// the account of household, as ledger.SpendFrom decides.
func (s *Store) IssueHouseholdVoucher(ctx context.Context, memberID, household, shopID uuid.UUID, req []ledger.VoucherRequestLine, by uuid.UUID, presence ledger.PresenceMethod, key string) (ledger.Voucher, error) {
	return s.issueVoucher(ctx, memberID, household, shopID, req, by, presence, key)
}

// issueVoucher makes a voucher of member paid from household's account, or
// from the member's own when household is uuid.Nil: it reads what
// ledger.DecideIssue needs and writes what it decided.
func (s *Store) issueVoucher(ctx context.Context, memberID, household, shopID uuid.UUID, req []ledger.VoucherRequestLine, by uuid.UUID, presence ledger.PresenceMethod, key string) (ledger.Voucher, error) {
	r := ledger.IssueRequest{Member: memberID, Household: household, Shop: shopID, Lines: req, By: by, Presence: presence, Key: key}
	// Merge repeated items and check quantities before anything is read.
	if err := r.Check(); err != nil {
		return ledger.Voucher{}, err
	}
	var v ledger.Voucher
	err := s.update(ctx, func(w *writeTx) error {
		st, err := s.readIssue(w, r)
		if err != nil {
			return err
		}
		d, err := ledger.DecideIssue(st)
		if err != nil || d.Repeat {
			v = d.Voucher
			return err
		}
		v = d.Voucher
		// The hold is the first write: too few points refuses with nothing written.
		hold, err := s.appendTx(w, d.Entry)
		if err != nil {
			return err
		}
		v.HoldSeq = hold.Seq
		if err := s.writeStock(w.tx, v, d.VoucherWrite); err != nil {
			return abortError{fmt.Sprintf("issue %s: %v", v.ID, err), err}
		}
		tx := w.tx
		if err := tx.Bucket(bucketVoucherCodes).Put([]byte(v.Code), v.ID[:]); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMemberVouchers).Put(pairKey(memberID, v.ID), nil); err != nil {
			return err
		}
		if err := tx.Bucket(bucketVoucherExpiry).Put(expiryKey(v), nil); err != nil {
			return err
		}
		if v.HouseholdID != uuid.Nil {
			if err := tx.Bucket(bucketHouseholdVouchers).Put(pairKey(v.HouseholdID, v.ID), nil); err != nil {
				return err
			}
		}
		if err := addHeld(tx, v, d.Held); err != nil {
			return err
		}
		return putVoucher(tx, v)
	})
	return v, err
}

// readIssue reads what ledger.DecideIssue needs: the voucher a repeated
// key made (and then nothing else), else the member, the shop, both units,
// the member's household when the request names one, the items with the
// member's counts of this month, and a new id and unused short code.
func (s *Store) readIssue(w *writeTx, r ledger.IssueRequest) (ledger.IssueState, error) {
	tx := w.tx
	st := ledger.IssueState{Now: s.now().UTC(), Loc: s.loc, Life: s.voucherLife, Request: r}
	if r.Key != "" {
		// The hold entry carries the client's key: a repeat finds it.
		if rec := w.idem.Get(idemKey(r.Key)); len(rec) == 8 {
			first, err := readStored(tx, binary.BigEndian.Uint64(rec))
			if err != nil {
				return st, err
			}
			st.Replay = &first.Entry
			if id, err := uuid.Parse(strings.TrimPrefix(first.Reference, "voucher:")); err == nil && first.Kind == ledger.KindHold {
				v, err := getVoucher(tx, id)
				if err != nil {
					return st, err
				}
				st.ReplayVoucher = &v
			}
			return st, nil
		}
	}
	var err error
	if st.Member, err = getJSON[ledger.Member](tx.Bucket(bucketMembers), r.Member, "member.not_found"); err != nil {
		return st, err
	}
	if shop, err := getJSON[ledger.Shop](tx.Bucket(bucketShops), r.Shop, "shop.not_found"); err == nil {
		st.Shop = &shop
		st.ShopUnit, _ = getJSON[ledger.Unit](tx.Bucket(bucketUnits), shop.UnitID, "unit.not_found")
	}
	st.MemberUnit, _ = getJSON[ledger.Unit](tx.Bucket(bucketUnits), st.Member.UnitID, "unit.not_found")
	if r.Household != uuid.Nil {
		if st.Home, err = memberHousehold(tx, r.Member); err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
			return st, err
		}
	}
	month := ledger.MonthOf(st.Now, s.loc)
	counts := tx.Bucket(bucketMemberItemMonth)
	st.Items, st.Taken = make(map[uuid.UUID]ledger.Item, len(r.Lines)), make(map[uuid.UUID]int, len(r.Lines))
	for _, l := range r.Lines {
		if it, err := getJSON[ledger.Item](tx.Bucket(bucketItems), l.ItemID, "item.not_found"); err == nil {
			st.Items[it.ID] = it
		}
		st.Taken[l.ItemID] = int(getCount(counts, monthCountKey(r.Member, l.ItemID, month)))
	}
	st.NewID = newID()
	codes := tx.Bucket(bucketVoucherCodes)
	for {
		var b [8]byte
		rand.Read(b[:])
		if st.Code = ledger.ShortCode(binary.BigEndian.Uint64(b[:])); codes.Get([]byte(st.Code)) == nil {
			return st, nil
		}
	}
}

// writeStock writes the stock changes, counts and moves of a decision on
// voucher v.
func (s *Store) writeStock(tx *bolt.Tx, v ledger.Voucher, d ledger.VoucherWrite) error {
	items := tx.Bucket(bucketItems)
	for _, c := range d.Stock {
		it, err := getJSON[ledger.Item](items, c.ItemID, "item.not_found")
		if err != nil {
			return err
		}
		it.OnHand += c.OnHand
		it.Reserved += c.Reserved
		if err := putJSON(items, it.ID, it); err != nil {
			return err
		}
	}
	for _, c := range d.Counts {
		if err := addCount(tx.Bucket(bucketMemberItemMonth), monthCountKey(c.MemberID, c.ItemID, c.Month), int64(c.Delta)); err != nil {
			return err
		}
	}
	for _, m := range d.Moves {
		if err := s.addStockMove(tx, v.ShopID, m); err != nil {
			return err
		}
	}
	return nil
}

// Voucher implements ledger.Shops.
func (s *Store) Voucher(ctx context.Context, id uuid.UUID) (ledger.Voucher, error) {
	var v ledger.Voucher
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		v, err = getVoucher(tx, id)
		return err
	})
	return v, err
}

// VoucherByCode implements ledger.Shops.
func (s *Store) VoucherByCode(ctx context.Context, code string) (ledger.Voucher, error) {
	code, err := ledger.NormalizeShortCode(code)
	if err != nil {
		return ledger.Voucher{}, err
	}
	var v ledger.Voucher
	err = s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketVoucherCodes).Get([]byte(code))
		if id == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "voucher.not_found")
		}
		var err error
		v, err = getVoucher(tx, uuid.UUID(id))
		return err
	})
	return v, err
}

// MemberVouchers implements ledger.Shops: newest first.
func (s *Store) MemberVouchers(ctx context.Context, memberID uuid.UUID) ([]ledger.Voucher, error) {
	var out []ledger.Voucher
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMemberVouchers).Cursor()
		for k, _ := c.Seek(memberID[:]); k != nil && bytes.HasPrefix(k, memberID[:]); k, _ = c.Next() {
			v, err := getVoucher(tx, uuid.UUID(k[16:]))
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// RedeemVoucher implements ledger.Shops: it reads the voucher, its shop
// and household, lets ledger.DecideRedeem decide and writes what it decided.
func (s *Store) RedeemVoucher(ctx context.Context, id, shopID, clerk uuid.UUID, key string) (ledger.Voucher, error) {
	var v ledger.Voucher
	err := s.update(ctx, func(w *writeTx) error {
		tx := w.tx
		st := ledger.RedeemState{Now: s.now().UTC(), Loc: s.loc, At: shopID, Clerk: clerk, Key: key}
		var err error
		if st.Voucher, err = getVoucher(tx, id); err != nil {
			return err
		}
		st.Shop, _ = getJSON[ledger.Shop](tx.Bucket(bucketShops), st.Voucher.ShopID, "shop.not_found")
		if hid := st.Voucher.HouseholdID; hid != uuid.Nil {
			h, err := getJSON[ledger.Household](tx.Bucket(bucketHouseholds), hid, "household.not_found")
			if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
				return err
			} else if err == nil {
				st.Household = &h
			}
		}
		for range st.Voucher.Lines {
			st.MoveIDs = append(st.MoveIDs, newID())
		}
		d, err := ledger.DecideRedeem(st)
		if err != nil || d.Repeat {
			v = d.Voucher
			return err
		}
		v = d.Voucher
		e, err := s.appendTx(w, d.Entry)
		if err != nil {
			return err
		}
		v.CloseSeq = e.Seq
		if err := s.writeStock(tx, v, d.VoucherWrite); err != nil {
			return abortError{fmt.Sprintf("redeem %s: %v", v.ID, err), err}
		}
		if err := s.addRedeemed(tx, v, e); err != nil {
			return err
		}
		return s.closeVoucher(tx, v, d.Held)
	})
	return v, err
}

// closeVoucher stores a voucher that is no longer open and drops it from
// the open indexes.
func (s *Store) closeVoucher(tx *bolt.Tx, v ledger.Voucher, held ledger.Points) error {
	if err := tx.Bucket(bucketVoucherExpiry).Delete(expiryKey(v)); err != nil {
		return err
	}
	if err := addHeld(tx, v, held); err != nil {
		return err
	}
	return putVoucher(tx, v)
}

// addHeld adds delta to the held points of the account voucher v holds
// from: the member's (memberheld) or the household's (householdheld).
func addHeld(tx *bolt.Tx, v ledger.Voucher, delta ledger.Points) error {
	if v.HouseholdID != uuid.Nil {
		return addCount(tx.Bucket(bucketHouseholdHeld), v.HouseholdID[:], delta)
	}
	return addCount(tx.Bucket(bucketMemberHeld), v.MemberID[:], delta)
}

// release reads nothing more than st (the voucher and why), lets
// ledger.PlanRelease decide and writes what it decided: an open voucher's
// points back to the account it holds them from, its stock back (cancel,
// expiry, a household member who may spend no more). done is false when
// the voucher was passed over.
func (s *Store) release(w *writeTx, st ledger.ReleaseState) (v ledger.Voucher, done bool, err error) {
	st.Now, st.Loc = s.now().UTC(), s.loc
	d, err := ledger.PlanRelease(st)
	if err != nil || d.Nothing {
		return st.Voucher, false, err
	}
	e, err := s.appendTx(w, d.Entry)
	if err != nil {
		return st.Voucher, false, err
	}
	v = d.Voucher
	v.CloseSeq = e.Seq
	if err := s.writeStock(w.tx, v, d.VoucherWrite); err != nil {
		return v, false, abortError{fmt.Sprintf("release %s: %v", v.ID, err), err}
	}
	return v, true, s.closeVoucher(w.tx, v, d.Held)
}

// CancelVoucher implements ledger.Shops.
func (s *Store) CancelVoucher(ctx context.Context, id, by uuid.UUID) (ledger.Voucher, error) {
	var v ledger.Voucher
	err := s.update(ctx, func(w *writeTx) error {
		old, err := getVoucher(w.tx, id)
		if err != nil {
			return err
		}
		v, _, err = s.release(w, ledger.ReleaseState{Voucher: old, Cause: ledger.ReleaseCancel, By: by})
		return err
	})
	return v, err
}

// expiryPage is how many due vouchers one step of the expiry sweep reads
// (Store.expiryPage, which tests make smaller).
const expiryPage = 1000

// ExpireVouchers implements ledger.Shops. It reads the due vouchers a page at
// a time in expiry order and releases each in a write of its own; the commit
// queue still commits a page's writes together, and one that fails is rolled
// back alone (see commit), so a bad voucher is skipped and counted while the
// others expire.
func (s *Store) ExpireVouchers(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	now := s.now().UTC()
	var after []byte
	for {
		var due []uuid.UUID
		full := false // the page was full: read on after it
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketVoucherExpiry).Cursor()
			k, _ := c.First()
			if after != nil {
				if k, _ = c.Seek(after); bytes.Equal(k, after) {
					k, _ = c.Next()
				}
			}
			for n := 0; k != nil; k, _ = c.Next() {
				if n == s.expiryPage {
					full = true
					break
				}
				if len(k) != 24 {
					// A damaged key: skipped and counted, and the voucher after it still expire.
					s.stats.SweepFailed(store.SweepVoucherExpiry, 1)
					res.Failed = append(res.Failed, ledger.SweepFailure{Err: fmt.Errorf("damaged expiry key %x", k)})
				} else if int64(binary.BigEndian.Uint64(k)) > now.UnixNano() {
					break
				} else {
					due = append(due, uuid.UUID(k[8:]))
				}
				after = bytes.Clone(k)
				n++
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		nothing := make([]bool, len(due)) // redeemed or cancelled since the page was read
		errs := s.updateEach(ctx, len(due), func(i int, w *writeTx) error {
			v, err := getVoucher(w.tx, due[i])
			if err != nil {
				return err
			}
			_, done, err := s.release(w, ledger.ReleaseState{Voucher: v, Cause: ledger.ReleaseExpiry})
			nothing[i] = !done
			return err
		})
		for i, err := range errs {
			if err == nil {
				if !nothing[i] {
					res.Done++
				}
				continue
			}
			if ledger.ErrorCode(err) == ledger.EUNAVAILABLE {
				return res, err // the store is closing or cannot write: stop the sweep
			}
			s.stats.SweepFailed(store.SweepVoucherExpiry, 1)
			res.Failed = append(res.Failed, ledger.SweepFailure{ID: due[i], Err: err})
		}
		if !full {
			return res, nil
		}
	}
}

// ReverseRedemption implements ledger.Shops: read the voucher, its redeem
// entry and who reversed it before; let ledger.ReverseRedemption decide;
// write what it decided. The reverse entry is the first write, so a refusal
// leaves nothing; anything failing after it aborts the whole request.
func (s *Store) ReverseRedemption(ctx context.Context, id, by uuid.UUID, reason, key string) (ledger.Voucher, error) {
	var v ledger.Voucher
	err := s.update(ctx, func(w *writeTx) error {
		tx := w.tx
		var err error
		if v, err = getVoucher(tx, id); err != nil {
			return err
		}
		var redeem ledger.Entry
		if v.Status == ledger.VoucherRedeemed {
			if redeem, err = readEntry(tx, v.CloseSeq); err != nil {
				return err
			}
		}
		reverser := ""
		if v.Status == ledger.VoucherReversed {
			reverser = staffName(tx, v.ReversedBy)
		}
		req := ledger.ReversalRequest{By: by, Reason: reason, Key: key, Now: s.now()}
		for range v.Lines {
			req.MoveIDs = append(req.MoveIDs, newID())
		}
		d, err := ledger.ReverseRedemption(v, redeem, reverser, req, s.loc)
		if err != nil {
			return err
		}
		if d.Repeat {
			v = d.Voucher
			return nil
		}
		rev, err := s.appendTx(w, d.Reverse)
		if err != nil {
			return err
		}
		abort := func(err error) error {
			return abortError{fmt.Sprintf("reverse the redemption of %s: %v", v.ID, err), err}
		}
		rel, err := s.appendTx(w, d.Release)
		if err != nil {
			return abort(err)
		}
		if err := s.writeStock(tx, v, ledger.VoucherWrite{Stock: d.Changes, Counts: d.Counts, Moves: d.Stock}); err != nil {
			return abort(err)
		}
		v = d.Voucher
		v.ReverseSeq, v.ReleaseSeq = rev.Seq, rel.Seq
		if err := s.addRedeemed(tx, v, rev); err != nil {
			return err
		}
		return putVoucher(tx, v)
	})
	return v, err
}

// staffName is how a refusal names a user: the name, else the login.
func staffName(tx *bolt.Tx, id uuid.UUID) string {
	u, err := getUser(tx, id[:])
	if err != nil {
		return ""
	}
	return cmp.Or(u.Name, u.Login)
}

// ShopRedemptions implements ledger.Shops. The walk enters the shop
// account's chain at the last redemption or reversal of the latest month
// (up to the one to falls in) that has one, from the shop's monthly row,
// and follows the chain back to from; entries after to are passed over.
// Every entry of the period is read for the totals; the vouchers only of
// the page's lines.
func (s *Store) ShopRedemptions(ctx context.Context, shopID uuid.UUID, from, to time.Time, before uint64, limit int) (ledger.RedemptionPage, error) {
	page := ledger.RedemptionPage{Redemptions: []ledger.Redemption{}}
	if limit < 1 || !to.After(from) {
		return page, ledger.Errorf(ledger.EINVALID, "redemptions.period_invalid")
	}
	acct := ledger.ShopAccount(shopID)
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketShops).Get(shopID[:]) == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "shop.not_found")
		}
		if before != 0 {
			se, err := readStored(tx, before)
			if err != nil || (se.Debit != acct && se.Credit != acct) {
				return ledger.Errorf(ledger.EINVALID, "entry.cursor_invalid", before)
			}
		}
		// The way in: the latest monthly row at or before to's month.
		var next uint64
		c := tx.Bucket(bucketShopMonth).Cursor()
		k, v := c.Seek(yyyymm(shopID, ledger.MonthOf(to.Add(-time.Nanosecond), s.loc).Next()))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		if k != nil && bytes.HasPrefix(k, shopID[:]) {
			row, err := decodeShopRow(v)
			if err != nil {
				return err
			}
			next = row.last
		}
		for i := 0; next != 0; i++ {
			if err := unhurried(ctx, i); err != nil {
				return err
			}
			se, err := readStored(tx, next)
			if err != nil {
				return err
			}
			next = se.prevOf(acct)
			if !se.Time.Before(to) {
				continue
			}
			if se.Time.Before(from) {
				break
			}
			vo, sign, ok, err := redemptionOfEntry(tx, &se.Entry)
			if err != nil {
				return err
			}
			if !ok {
				continue // a redeem appended directly to the journal, naming no voucher
			}
			page.Points += sign * se.Amount
			if sign > 0 {
				page.Redeemed++
			} else {
				page.Reversed++
			}
			switch {
			case before != 0 && se.Seq >= before:
			case len(page.Redemptions) == limit:
				if page.Before == 0 {
					page.Before = page.Redemptions[limit-1].Seq
				}
			default:
				page.Redemptions = append(page.Redemptions, ledger.Redemption{Seq: se.Seq, Time: se.Time, Kind: se.Kind,
					Points: sign * se.Amount, Voucher: vo})
			}
		}
		return nil
	})
	return page, err
}
