package store

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

// MoveStock implements ledger.Shops.
func (s *Store) MoveStock(ctx context.Context, m ledger.StockMove) (ledger.Item, error) {
	var err error
	if m.Donor, err = ledger.StockText.Clean(m.Donor); err != nil {
		return ledger.Item{}, err
	}
	if m.Note, err = ledger.StockText.Clean(m.Note); err != nil {
		return ledger.Item{}, err
	}
	switch {
	case m.Kind == ledger.StockIntake && (m.Qty < 1 || m.Qty > 100000):
		return ledger.Item{}, ledger.Errorf(ledger.EINVALID, "stock.qty_invalid")
	case m.Kind == ledger.StockCorrection && (m.Qty == 0 || m.Qty < -100000 || m.Qty > 100000 || m.Note == ""):
		return ledger.Item{}, ledger.Errorf(ledger.EINVALID, "stock.correction_invalid")
	case m.Kind != ledger.StockIntake && m.Kind != ledger.StockCorrection:
		return ledger.Item{}, ledger.Errorf(ledger.EINVALID, "stock.kind_invalid", ledger.Clip(m.Kind))
	}
	m.ID, m.At = newID(), s.now().UTC()
	var it ledger.Item
	err = s.update(ctx, func(w *writeTx) error {
		var err error
		if it, err = getJSON[ledger.Item](w.tx.Bucket(bucketItems), m.ItemID, "item.not_found"); err != nil {
			return err
		}
		switch {
		case it.OnHand+m.Qty < 0:
			return ledger.Errorf(ledger.ECONFLICT, "stock.below_zero", it.OnHand, -m.Qty)
		case it.OnHand+m.Qty < it.Reserved:
			return ledger.Errorf(ledger.ECONFLICT, "stock.below_reserved", it.OnHand+m.Qty, it.Reserved)
		}
		it.OnHand += m.Qty
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
// from the member's own when household is uuid.Nil.
func (s *Store) issueVoucher(ctx context.Context, memberID, household, shopID uuid.UUID, req []ledger.VoucherRequestLine, by uuid.UUID, presence ledger.PresenceMethod, key string) (ledger.Voucher, error) {
	if !presence.Valid() {
		return ledger.Voucher{}, ledger.Errorf(ledger.EINVALID, "voucher.presence_invalid", ledger.Clip(string(presence)))
	}
	// Merge repeated items and check quantities before anything is read.
	lines, err := ledger.MergeVoucherLines(req)
	if err != nil {
		return ledger.Voucher{}, err
	}
	qty := make(map[uuid.UUID]int, len(lines))
	for _, l := range lines {
		qty[l.ItemID] = l.Qty
	}
	var v ledger.Voucher
	err = s.update(ctx, func(w *writeTx) error {
		tx := w.tx
		now := s.now().UTC()
		if key != "" {
			// The hold entry carries the client's key: a repeat finds it.
			if rec := w.idem.Get(idemKey(key)); len(rec) == 8 {
				first, err := readStored(tx, binary.BigEndian.Uint64(rec))
				if err != nil {
					return err
				}
				id, err := uuid.Parse(strings.TrimPrefix(first.Reference, "voucher:"))
				if err != nil || first.Kind != ledger.KindHold {
					return ledger.Errorf(ledger.ECONFLICT, "idempotency.mismatch")
				}
				if v, err = getVoucher(tx, id); err != nil {
					return err
				}
				if !sameRequest(v, memberID, shopID, qty) || v.Presence != presence || v.HouseholdID != household {
					return ledger.Errorf(ledger.ECONFLICT, "idempotency.mismatch")
				}
				return nil
			}
		}
		m, err := activeMember(tx, memberID)
		if le, ok := ledger.AsError(err); ok && le.Key == "checkin.member_inactive" {
			return ledger.Errorf(ledger.ECONFLICT, "voucher.member_inactive", m.Name)
		}
		if err != nil {
			return err
		}
		shop, err := getJSON[ledger.Shop](tx.Bucket(bucketShops), shopID, "shop.not_found")
		if err != nil {
			return err
		}
		shopUnit, _ := getJSON[ledger.Unit](tx.Bucket(bucketUnits), shop.UnitID, "unit.not_found")
		memberUnit, _ := getJSON[ledger.Unit](tx.Bucket(bucketUnits), m.UnitID, "unit.not_found")
		if !shop.Takes(shopUnit, memberUnit) {
			return ledger.Errorf(ledger.EFORBIDDEN, "voucher.shop_not_yours", shop.Name)
		}
		// Whose points: the member's own, or their household's (read only
		// when the request names one).
		var home ledger.Household
		if household != uuid.Nil {
			if home, err = memberHousehold(tx, memberID); err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
				return err
			}
		}
		from, err := ledger.SpendFrom(memberID, household, home, shop)
		if err != nil {
			return err
		}
		month := ledger.MonthOf(now, s.loc)
		counts := tx.Bucket(bucketMemberItemMonth)
		v = ledger.Voucher{ID: newID(), MemberID: memberID, ShopID: shopID, Status: ledger.VoucherOpen,
			CreatedAt: now, CreatedBy: by, ExpiresAt: now.Add(s.voucherLife), Presence: presence, HouseholdID: household}
		items := make([]ledger.Item, 0, len(lines))
		for _, l := range lines {
			id := l.ItemID
			it, err := getJSON[ledger.Item](tx.Bucket(bucketItems), id, "item.not_found")
			if err != nil {
				return err
			}
			q := qty[id]
			switch {
			case it.ShopID != shopID:
				return ledger.Errorf(ledger.ENOTFOUND, "item.not_found")
			case !it.Active:
				return ledger.Errorf(ledger.ECONFLICT, "voucher.item_inactive", it.Name)
			case it.Available() < q:
				return ledger.Errorf(ledger.ECONFLICT, "voucher.out_of_stock", it.Name, max(0, it.Available()))
			case it.MonthlyLimit > 0 && getCount(counts, monthCountKey(memberID, id, month))+int64(q) > int64(it.MonthlyLimit):
				return ledger.Errorf(ledger.ECONFLICT, "voucher.limit_reached", it.Name, it.MonthlyLimit)
			}
			v.Lines = append(v.Lines, ledger.VoucherLine{ItemID: id, Name: it.Name, Points: it.Points, Qty: q})
			v.Points += it.Points * ledger.Points(q)
			items = append(items, it)
		}
		// The hold is the first write: too few points refuses with nothing written.
		holdKey := key
		if holdKey == "" {
			holdKey = v.Key("hold")
		}
		hold, err := s.appendTx(w, ledger.Transfer{Debit: from, Credit: ledger.Escrow,
			Amount: v.Points, Kind: ledger.KindHold, Reference: v.Reference(), Actor: "user:" + by.String(),
			IdempotencyKey: holdKey})
		if err != nil {
			return err
		}
		v.HoldSeq = hold.Seq
		for i, it := range items {
			it.Reserved += v.Lines[i].Qty
			if err := putJSON(tx.Bucket(bucketItems), it.ID, it); err != nil {
				return err
			}
			if err := addCount(counts, monthCountKey(memberID, it.ID, month), int64(v.Lines[i].Qty)); err != nil {
				return err
			}
		}
		codes := tx.Bucket(bucketVoucherCodes)
		for {
			var r [8]byte
			rand.Read(r[:])
			v.Code = ledger.ShortCode(binary.BigEndian.Uint64(r[:]))
			if codes.Get([]byte(v.Code)) == nil {
				break
			}
		}
		if err := codes.Put([]byte(v.Code), v.ID[:]); err != nil {
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
		if err := addHeld(tx, v, v.Points); err != nil {
			return err
		}
		return putVoucher(tx, v)
	})
	return v, err
}

// sameRequest says whether a voucher is what a repeated request asks for.
func sameRequest(v ledger.Voucher, member, shop uuid.UUID, qty map[uuid.UUID]int) bool {
	if v.MemberID != member || v.ShopID != shop || len(v.Lines) != len(qty) {
		return false
	}
	for _, l := range v.Lines {
		if qty[l.ItemID] != l.Qty {
			return false
		}
	}
	return true
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

// RedeemVoucher implements ledger.Shops.
func (s *Store) RedeemVoucher(ctx context.Context, id, shopID, clerk uuid.UUID, key string) (ledger.Voucher, error) {
	var v ledger.Voucher
	err := s.update(ctx, func(w *writeTx) error {
		tx := w.tx
		now := s.now().UTC()
		var err error
		if v, err = getVoucher(tx, id); err != nil {
			return err
		}
		switch {
		case v.Status == ledger.VoucherRedeemed && key != "" && key == v.RedeemKey:
			return nil // the same redemption again: the first answer
		case v.Status == ledger.VoucherRedeemed:
			shop, _ := getJSON[ledger.Shop](tx.Bucket(bucketShops), v.ShopID, "shop.not_found")
			return ledger.Errorf(ledger.ECONFLICT, "voucher.redeemed", v.ClosedAt.In(s.loc).Format("2006-01-02 15:04"), shop.Name).
				With("redeemed_at", v.ClosedAt.In(s.loc)).With("shop", shop.Name)
		case v.Status == ledger.VoucherReversed:
			shop, _ := getJSON[ledger.Shop](tx.Bucket(bucketShops), v.ShopID, "shop.not_found")
			return ledger.Errorf(ledger.ECONFLICT, "voucher.redeemed_reversed", v.ClosedAt.In(s.loc).Format("2006-01-02 15:04"), shop.Name,
				v.ReversedAt.In(s.loc).Format("2006-01-02 15:04")).With("redeemed_at", v.ClosedAt.In(s.loc)).With("shop", shop.Name)
		case v.Status == ledger.VoucherCancelled:
			return ledger.Errorf(ledger.EGONE, "voucher.cancelled")
		case v.Status == ledger.VoucherExpired || !now.Before(v.ExpiresAt):
			return ledger.Errorf(ledger.EGONE, "voucher.expired", v.ExpiresAt.In(s.loc).Format("2006-01-02"))
		case v.ShopID != shopID:
			shop, _ := getJSON[ledger.Shop](tx.Bucket(bucketShops), v.ShopID, "shop.not_found")
			return ledger.Errorf(ledger.ECONFLICT, "voucher.other_shop", shop.Name)
		}
		if v.HouseholdID != uuid.Nil {
			// Household points go only to who may spend them now (a member
			// who left has their open vouchers released; this is the guard).
			h, err := getJSON[ledger.Household](tx.Bucket(bucketHouseholds), v.HouseholdID, "household.not_found")
			if err != nil {
				return err
			}
			if !h.MaySpend(v.MemberID) {
				return ledger.Errorf(ledger.ECONFLICT, "household.voucher_left")
			}
		}
		e, err := s.appendTx(w, ledger.Transfer{Debit: ledger.Escrow, Credit: ledger.ShopAccount(v.ShopID), Amount: v.Points,
			Kind: ledger.KindRedeem, Reference: v.Reference(), Actor: "user:" + clerk.String(), IdempotencyKey: v.Key("redeem")})
		if err != nil {
			return err
		}
		for _, l := range v.Lines {
			it, err := getJSON[ledger.Item](tx.Bucket(bucketItems), l.ItemID, "item.not_found")
			if err != nil {
				return abortError{fmt.Sprintf("redeem %s: %v", v.ID, err), err}
			}
			it.OnHand -= l.Qty
			it.Reserved -= l.Qty
			if err := putJSON(tx.Bucket(bucketItems), it.ID, it); err != nil {
				return err
			}
			if err := s.addStockMove(tx, v.ShopID, ledger.StockMove{ID: newID(), ItemID: it.ID, Kind: ledger.StockRedeem, Qty: -l.Qty,
				Reference: v.Reference(), By: clerk, At: now}); err != nil {
				return err
			}
		}
		v.Status, v.ClosedAt, v.ClosedBy, v.CloseSeq, v.RedeemKey = ledger.VoucherRedeemed, now, clerk, e.Seq, key
		if err := s.addRedeemed(tx, v, e); err != nil {
			return err
		}
		return s.closeVoucher(tx, v)
	})
	return v, err
}

// closeVoucher stores a voucher that is no longer open and drops it from
// the open indexes.
func (s *Store) closeVoucher(tx *bolt.Tx, v ledger.Voucher) error {
	if err := tx.Bucket(bucketVoucherExpiry).Delete(expiryKey(v)); err != nil {
		return err
	}
	if err := addHeld(tx, v, -v.Points); err != nil {
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

// release gives an open voucher's points (to the account it holds them
// from) and stock back (cancel or expiry).
func (s *Store) release(w *writeTx, v *ledger.Voucher, status ledger.VoucherStatus, by uuid.UUID) error {
	tx := w.tx
	e, err := s.appendTx(w, ledger.Transfer{Debit: ledger.Escrow, Credit: v.Account(), Amount: v.Points,
		Kind: ledger.KindRelease, Reference: v.Reference(), Actor: "user:" + by.String(), Memo: string(status),
		IdempotencyKey: v.Key("release")})
	if err != nil {
		return err
	}
	month := ledger.MonthOf(v.CreatedAt, s.loc)
	for _, l := range v.Lines {
		it, err := getJSON[ledger.Item](tx.Bucket(bucketItems), l.ItemID, "item.not_found")
		if err != nil {
			return abortError{fmt.Sprintf("release %s: %v", v.ID, err), err}
		}
		it.Reserved -= l.Qty
		if err := putJSON(tx.Bucket(bucketItems), it.ID, it); err != nil {
			return err
		}
		if err := addCount(tx.Bucket(bucketMemberItemMonth), monthCountKey(v.MemberID, it.ID, month), -int64(l.Qty)); err != nil {
			return err
		}
	}
	v.Status, v.ClosedAt, v.ClosedBy, v.CloseSeq = status, s.now().UTC(), by, e.Seq
	return s.closeVoucher(tx, *v)
}

// CancelVoucher implements ledger.Shops.
func (s *Store) CancelVoucher(ctx context.Context, id, by uuid.UUID) (ledger.Voucher, error) {
	var v ledger.Voucher
	err := s.update(ctx, func(w *writeTx) error {
		var err error
		if v, err = getVoucher(w.tx, id); err != nil {
			return err
		}
		if v.Status != ledger.VoucherOpen {
			return ledger.Errorf(ledger.ECONFLICT, "voucher.not_open", string(v.Status))
		}
		return s.release(w, &v, ledger.VoucherCancelled, by)
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
					s.stats.sweepFailures[sweepVoucherExpiry].Add(1)
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
			if v.Status != ledger.VoucherOpen {
				nothing[i] = true
				return nil
			}
			return s.release(w, &v, ledger.VoucherExpired, uuid.Nil)
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
			s.stats.sweepFailures[sweepVoucherExpiry].Add(1)
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
		d, err := ledger.ReverseRedemption(v, redeem, reverser, ledger.ReversalRequest{By: by, Reason: reason, Key: key, Now: s.now()}, s.loc)
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
		counts := tx.Bucket(bucketMemberItemMonth)
		for _, m := range d.Stock {
			it, err := getJSON[ledger.Item](tx.Bucket(bucketItems), m.ItemID, "item.not_found")
			if err != nil {
				return abort(err)
			}
			it.OnHand += m.Qty
			if err := putJSON(tx.Bucket(bucketItems), it.ID, it); err != nil {
				return err
			}
			m.ID = newID()
			if err := s.addStockMove(tx, v.ShopID, m); err != nil {
				return err
			}
			if err := addCount(counts, monthCountKey(v.MemberID, it.ID, d.CountMonth), -int64(m.Qty)); err != nil {
				return err
			}
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
