package postgres

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"aixin/ledger"
	"aixin/store"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Shops, items, stock and vouchers, as on bbolt: each request reads what
// its decision in ledger/voucher_decide.go needs (rows locked), lets it
// decide and writes what it returned: the journal's entry first, so that a
// refusal there (too few points) leaves nothing.

// storedVoucher keeps the idempotency keys of the redemption and of its
// reversal, which the API never shows (the bbolt engine's document).
type storedVoucher struct {
	ledger.Voucher
	Key        string `json:"redeem_key,omitempty"`
	ReverseKey string `json:"reverse_key,omitempty"`
}

func decodeVoucher(doc string) (ledger.Voucher, error) {
	var sv storedVoucher
	err := jsonUnmarshal(doc, &sv)
	sv.Voucher.RedeemKey, sv.Voucher.ReverseKey = sv.Key, sv.ReverseKey
	return sv.Voucher, err
}

func (w *wtx) readVoucher(id uuid.UUID) (ledger.Voucher, error) {
	var doc string
	found, err := w.QueryRow(`SELECT doc FROM vouchers WHERE id = $1 FOR UPDATE`, []any{id}, &doc)
	if err != nil {
		return ledger.Voucher{}, err
	}
	if !found {
		return ledger.Voucher{}, ledger.Errorf(ledger.ENOTFOUND, "voucher.not_found")
	}
	return decodeVoucher(doc)
}

// putVoucher stores v, new or changed; an open voucher keeps its expiry
// for the sweep.
func (w *wtx) putVoucher(v ledger.Voucher) error {
	doc, err := jsonDoc(storedVoucher{v, v.RedeemKey, v.ReverseKey})
	if err != nil {
		return err
	}
	var household *uuid.UUID
	if v.HouseholdID != uuid.Nil {
		household = &v.HouseholdID
	}
	var expires *int64
	if v.Status == ledger.VoucherOpen {
		e := v.ExpiresAt.UnixNano()
		expires = &e
	}
	w.Exec(`INSERT INTO vouchers (id, member, household, code, expires_at, doc) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at, doc = EXCLUDED.doc`,
		v.ID, v.MemberID, household, v.Code, expires, doc)
	return nil
}

// addHeld adds delta to the held points of the account voucher v holds
// from (the member's or the household's).
func (w *wtx) addHeld(v ledger.Voucher, delta ledger.Points) {
	k := v.Account().Key()
	w.Exec(`INSERT INTO held (account, points) VALUES ($1, GREATEST(0, $2::bigint))
		ON CONFLICT (account) DO UPDATE SET points = GREATEST(0, held.points + $2::bigint)`, k[:], delta)
}

// CreateShop implements ledger.Shops. The shop's points account opens with it.
func (s *Store) CreateShop(ctx context.Context, sh ledger.Shop) (ledger.Shop, error) {
	if err := sh.Check(); err != nil {
		return sh, err
	}
	sh.ID, sh.CreatedAt = uuid.Must(uuid.NewV7()), s.now().UTC()
	err := s.update(ctx, func(w *wtx) error {
		if _, err := w.readUnit(sh.UnitID, false); err != nil {
			return err
		}
		w.openNewAccount(ledger.ShopAccount(sh.ID))
		return w.putShop(sh)
	})
	return sh, err
}

func (w *wtx) putShop(sh ledger.Shop) error {
	doc, err := jsonDoc(sh)
	w.Exec(`INSERT INTO shops (id, unit, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`, sh.ID, sh.UnitID, doc)
	return err
}

// Shop implements ledger.Shops.
func (s *Store) Shop(ctx context.Context, id uuid.UUID) (ledger.Shop, error) {
	return viewDoc[ledger.Shop](ctx, s, "shops", id, "shop.not_found")
}

// Shops implements ledger.Shops.
func (s *Store) Shops(ctx context.Context) ([]ledger.Shop, error) {
	return listDocs[ledger.Shop](ctx, s, "shops")
}

// SetShopHouseholds implements ledger.Households.
func (s *Store) SetShopHouseholds(ctx context.Context, shopID uuid.UUID, accepts bool) (ledger.Shop, error) {
	var sh ledger.Shop
	err := s.update(ctx, func(w *wtx) error {
		var err error
		if sh, err = readDoc[ledger.Shop](w, "shops", shopID, true, "shop.not_found"); err != nil {
			return err
		}
		sh.Households = accepts
		return w.putShop(sh)
	})
	return sh, err
}

func (w *wtx) putItem(it ledger.Item) error {
	doc, err := jsonDoc(it)
	w.Exec(`INSERT INTO items (id, shop, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`, it.ID, it.ShopID, doc)
	return err
}

// CreateItem implements ledger.Shops. Stock arrives by MoveStock.
func (s *Store) CreateItem(ctx context.Context, it ledger.Item) (ledger.Item, error) {
	if err := it.Check(); err != nil {
		return it, err
	}
	it.ID, it.CreatedAt, it.OnHand, it.Reserved = uuid.Must(uuid.NewV7()), s.now().UTC(), 0, 0
	err := s.update(ctx, func(w *wtx) error {
		if _, err := readDoc[ledger.Shop](w, "shops", it.ShopID, false, "shop.not_found"); err != nil {
			return err
		}
		return w.putItem(it)
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
	err := s.update(ctx, func(w *wtx) error {
		var err error
		if out, err = readDoc[ledger.Item](w, "items", it.ID, true, "item.not_found"); err != nil {
			return err
		}
		out.Name, out.Points, out.MonthlyLimit, out.Active = it.Name, it.Points, it.MonthlyLimit, it.Active
		return w.putItem(out)
	})
	return out, err
}

// Item implements ledger.Shops.
func (s *Store) Item(ctx context.Context, id uuid.UUID) (ledger.Item, error) {
	return viewDoc[ledger.Item](ctx, s, "items", id, "item.not_found")
}

// Items implements ledger.Shops.
func (s *Store) Items(ctx context.Context, shopID uuid.UUID) ([]ledger.Item, error) {
	return queryDocs[ledger.Item](ctx, s, `SELECT doc FROM items WHERE shop = $1 ORDER BY id`, shopID)
}

// addStockMove stores a stock move of an item of shop.
func (w *wtx) addStockMove(shop uuid.UUID, m ledger.StockMove) error {
	doc, err := jsonDoc(m)
	w.Exec(`INSERT INTO stock_moves (id, item, shop, month, kind, doc) VALUES ($1, $2, $3, $4, $5, $6)`,
		m.ID, m.ItemID, shop, int32(ledger.MonthOf(m.At, w.s.loc)), string(m.Kind), doc)
	return err
}

// MoveStock implements ledger.Shops: the move checked, the item read and
// ledger.DecideStockMove's item stored with the move.
func (s *Store) MoveStock(ctx context.Context, m ledger.StockMove) (ledger.Item, error) {
	if err := m.Check(); err != nil {
		return ledger.Item{}, err
	}
	m.ID, m.At = uuid.Must(uuid.NewV7()), s.now().UTC()
	var it ledger.Item
	err := s.update(ctx, func(w *wtx) error {
		old, err := readDoc[ledger.Item](w, "items", m.ItemID, true, "item.not_found")
		if err != nil {
			return err
		}
		if it, err = ledger.DecideStockMove(old, m); err != nil {
			return err
		}
		if err := w.addStockMove(it.ShopID, m); err != nil {
			return err
		}
		return w.putItem(it)
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
	sum := sha256.Sum256(data)
	return s.update(ctx, func(w *wtx) error {
		it, err := readDoc[ledger.Item](w, "items", id, true, "item.not_found")
		if err != nil {
			return err
		}
		it.Picture = hex.EncodeToString(sum[:6])
		w.Exec(`INSERT INTO item_pictures (item, content_type, data) VALUES ($1, $2, $3)
			ON CONFLICT (item) DO UPDATE SET content_type = EXCLUDED.content_type, data = EXCLUDED.data`, id, contentType, data)
		return w.putItem(it)
	})
}

// ItemPicture implements ledger.Shops.
func (s *Store) ItemPicture(ctx context.Context, id uuid.UUID) (string, []byte, error) {
	var ctype string
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT content_type, data FROM item_pictures WHERE item = $1`, id).Scan(&ctype, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, ledger.Errorf(ledger.ENOTFOUND, "item.no_picture")
	}
	if err != nil {
		return "", nil, unavailable(err)
	}
	return ctype, data, nil
}

// StockMoves implements ledger.Shops.
func (s *Store) StockMoves(ctx context.Context, itemID uuid.UUID) ([]ledger.StockMove, error) {
	return queryDocs[ledger.StockMove](ctx, s, `SELECT doc FROM stock_moves WHERE item = $1 ORDER BY id`, itemID)
}

// ShopStockMoves implements ledger.Shops: a shop's moves of a month but
// those of redemptions, in time order.
func (s *Store) ShopStockMoves(ctx context.Context, shopID uuid.UUID, m ledger.Month) ([]ledger.StockMove, error) {
	if _, err := s.Shop(ctx, shopID); err != nil {
		return nil, err
	}
	out, err := queryDocs[ledger.StockMove](ctx, s, `SELECT doc FROM stock_moves WHERE shop = $1 AND month = $2 AND kind <> 'redeem' ORDER BY id`,
		shopID, int32(m))
	if out == nil {
		out = []ledger.StockMove{}
	}
	slices.SortStableFunc(out, func(a, b ledger.StockMove) int { return a.At.Compare(b.At) })
	return out, err
}

// Taken implements ledger.Shops.
func (s *Store) Taken(ctx context.Context, memberID uuid.UUID, items []uuid.UUID) (map[uuid.UUID]int, error) {
	out := make(map[uuid.UUID]int, len(items))
	rows, err := s.pool.Query(ctx, `SELECT item, count FROM member_item_months WHERE member = $1 AND month = $2 AND item = ANY($3) AND count > 0`,
		memberID, int32(ledger.MonthOf(s.now(), s.loc)), items)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, unavailable(err)
		}
		out[id] = int(n)
	}
	return out, unavailable2(rows.Err())
}

func (s *Store) held(ctx context.Context, a ledger.Account) (ledger.Points, error) {
	k := a.Key()
	var n ledger.Points
	err := s.pool.QueryRow(ctx, `SELECT points FROM held WHERE account = $1`, k[:]).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}

// Held returns the points a member has in open vouchers.
func (s *Store) Held(ctx context.Context, memberID uuid.UUID) (ledger.Points, error) {
	return s.held(ctx, ledger.MemberAccount(memberID))
}

// HouseholdHeld implements ledger.Households.
func (s *Store) HouseholdHeld(ctx context.Context, id uuid.UUID) (ledger.Points, error) {
	return s.held(ctx, ledger.HouseholdAccount(id))
}

// IssueVoucher implements ledger.Shops: a voucher paid from the member's own points.
func (s *Store) IssueVoucher(ctx context.Context, memberID, shopID uuid.UUID, req []ledger.VoucherRequestLine, by uuid.UUID, presence ledger.PresenceMethod, key string) (ledger.Voucher, error) {
	return s.issueVoucher(ctx, ledger.IssueRequest{Member: memberID, Shop: shopID, Lines: req, By: by, Presence: presence, Key: key})
}

// IssueHouseholdVoucher implements ledger.Households: a voucher paid from
// the account of household, as ledger.SpendFrom decides.
func (s *Store) IssueHouseholdVoucher(ctx context.Context, memberID, household, shopID uuid.UUID, req []ledger.VoucherRequestLine, by uuid.UUID, presence ledger.PresenceMethod, key string) (ledger.Voucher, error) {
	return s.issueVoucher(ctx, ledger.IssueRequest{Member: memberID, Household: household, Shop: shopID, Lines: req, By: by, Presence: presence, Key: key})
}

func (s *Store) issueVoucher(ctx context.Context, r ledger.IssueRequest) (ledger.Voucher, error) {
	if err := r.Check(); err != nil {
		return ledger.Voucher{}, err
	}
	var v ledger.Voucher
	err := s.updatePoints(ctx, func(w *wtx) error {
		st, err := w.readIssue(r)
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
		hold, err := w.Append(d.Entry)
		if err != nil {
			return err
		}
		v.HoldSeq = hold.Seq
		if err := w.writeStock(v, d.VoucherWrite); err != nil {
			return err
		}
		w.addHeld(v, d.Held)
		return w.putVoucher(v)
	})
	return v, err
}

// readIssue reads what ledger.DecideIssue needs: the voucher a repeated
// key made (and then nothing else), else the member, the shop, both units,
// the member's household when the request names one, the items (locked)
// with the member's counts of this month, and a new id and unused code.
func (w *wtx) readIssue(r ledger.IssueRequest) (ledger.IssueState, error) {
	s := w.s
	st := ledger.IssueState{Now: s.now().UTC(), Loc: s.loc, Life: s.voucherLife, Request: r}
	if r.Key != "" {
		// The hold entry carries the client's key: a repeat finds it.
		first, found, err := w.EntryByKey(r.Key)
		if err != nil {
			return st, err
		}
		if found {
			st.Replay = &first
			if id, err := uuid.Parse(strings.TrimPrefix(first.Reference, "voucher:")); err == nil && first.Kind == ledger.KindHold {
				v, err := w.readVoucher(id)
				if err != nil {
					return st, err
				}
				st.ReplayVoucher = &v
			}
			return st, nil
		}
	}
	var err error
	if st.Member, err = readDoc[ledger.Member](w, "members", r.Member, false, "member.not_found"); err != nil {
		return st, err
	}
	if shop, err := readDoc[ledger.Shop](w, "shops", r.Shop, false, "shop.not_found"); err == nil {
		st.Shop = &shop
		st.ShopUnit, _ = w.readUnit(shop.UnitID, false)
	} else if ledger.ErrorCode(err) != ledger.ENOTFOUND {
		return st, err
	}
	st.MemberUnit, _ = w.readUnit(st.Member.UnitID, false)
	if r.Household != uuid.Nil {
		var hid uuid.UUID
		found, err := w.QueryRow(`SELECT household FROM member_households WHERE member = $1`, []any{r.Member}, &hid)
		if err != nil {
			return st, err
		}
		if found {
			if st.Home, err = readDoc[ledger.Household](w, "households", hid, false, "household.not_found"); err != nil {
				return st, err
			}
		}
	}
	ids := make([]uuid.UUID, len(r.Lines))
	for i, l := range r.Lines {
		ids[i] = l.ItemID
	}
	if st.Items, err = w.readItems(ids); err != nil {
		return st, err
	}
	st.Taken = make(map[uuid.UUID]int, len(r.Lines))
	err = w.Query(func(rows pgx.Rows) error {
		var id uuid.UUID
		var n int64
		err := rows.Scan(&id, &n)
		st.Taken[id] = int(n)
		return err
	}, `SELECT item, count FROM member_item_months WHERE member = $1 AND month = $2 AND item = ANY($3)`,
		r.Member, int32(ledger.MonthOf(st.Now, s.loc)), ids)
	if err != nil {
		return st, err
	}
	st.NewID = uuid.Must(uuid.NewV7())
	for {
		var b [8]byte
		rand.Read(b[:])
		st.Code = ledger.ShortCode(binary.BigEndian.Uint64(b[:]))
		var one int
		found, err := w.QueryRow(`SELECT 1 FROM vouchers WHERE code = $1`, []any{st.Code}, &one)
		if err != nil || !found {
			return st, err
		}
	}
}

// readItems reads (and locks, in id order) the items of ids that exist.
func (w *wtx) readItems(ids []uuid.UUID) (map[uuid.UUID]ledger.Item, error) {
	out := make(map[uuid.UUID]ledger.Item, len(ids))
	err := w.Query(func(rows pgx.Rows) error {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		var it ledger.Item
		err := jsonUnmarshal(doc, &it)
		out[it.ID] = it
		return err
	}, `SELECT doc FROM items WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	return out, err
}

// writeStock writes the stock changes, counts and moves of a decision on
// voucher v.
func (w *wtx) writeStock(v ledger.Voucher, d ledger.VoucherWrite) error {
	if len(d.Stock) > 0 {
		ids := make([]uuid.UUID, len(d.Stock))
		for i, c := range d.Stock {
			ids[i] = c.ItemID
		}
		items, err := w.readItems(ids)
		if err != nil {
			return err
		}
		for _, c := range d.Stock {
			it, ok := items[c.ItemID]
			if !ok {
				return errors.New("voucher " + v.ID.String() + ": item " + c.ItemID.String() + " is gone")
			}
			it.OnHand += c.OnHand
			it.Reserved += c.Reserved
			items[c.ItemID] = it
			if err := w.putItem(it); err != nil {
				return err
			}
		}
	}
	for _, c := range d.Counts {
		w.Exec(`INSERT INTO member_item_months (member, item, month, count) VALUES ($1, $2, $3, GREATEST(0, $4::bigint))
			ON CONFLICT (member, item, month) DO UPDATE SET count = GREATEST(0, member_item_months.count + $4::bigint)`,
			c.MemberID, c.ItemID, int32(c.Month), int64(c.Delta))
	}
	for _, m := range d.Moves {
		if err := w.addStockMove(v.ShopID, m); err != nil {
			return err
		}
	}
	return nil
}

// Voucher implements ledger.Shops.
func (s *Store) Voucher(ctx context.Context, id uuid.UUID) (ledger.Voucher, error) {
	return s.voucherWhere(ctx, `id = $1`, id)
}

func (s *Store) voucherWhere(ctx context.Context, where string, arg any) (ledger.Voucher, error) {
	var doc string
	err := s.pool.QueryRow(ctx, `SELECT doc FROM vouchers WHERE `+where, arg).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Voucher{}, ledger.Errorf(ledger.ENOTFOUND, "voucher.not_found")
	}
	if err != nil {
		return ledger.Voucher{}, unavailable(err)
	}
	return decodeVoucher(doc)
}

// VoucherByCode implements ledger.Shops.
func (s *Store) VoucherByCode(ctx context.Context, code string) (ledger.Voucher, error) {
	code, err := ledger.NormalizeShortCode(code)
	if err != nil {
		return ledger.Voucher{}, err
	}
	return s.voucherWhere(ctx, `code = $1`, code)
}

func (s *Store) vouchersWhere(ctx context.Context, where string, arg any) ([]ledger.Voucher, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM vouchers WHERE `+where+` ORDER BY id DESC`, arg)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []ledger.Voucher{}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, unavailable(err)
		}
		v, err := decodeVoucher(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, unavailable2(rows.Err())
}

// MemberVouchers implements ledger.Shops: newest first.
func (s *Store) MemberVouchers(ctx context.Context, memberID uuid.UUID) ([]ledger.Voucher, error) {
	out, err := s.vouchersWhere(ctx, `member = $1`, memberID)
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// HouseholdVouchers implements ledger.Households: newest first.
func (s *Store) HouseholdVouchers(ctx context.Context, id uuid.UUID) ([]ledger.Voucher, error) {
	return s.vouchersWhere(ctx, `household = $1`, id)
}

// RedeemVoucher implements ledger.Shops: it reads the voucher (locked), its
// shop and household, lets ledger.DecideRedeem decide and writes what it
// decided.
func (s *Store) RedeemVoucher(ctx context.Context, id, shopID, clerk uuid.UUID, key string) (ledger.Voucher, error) {
	var v ledger.Voucher
	err := s.updatePoints(ctx, func(w *wtx) error {
		st := ledger.RedeemState{Now: s.now().UTC(), Loc: s.loc, At: shopID, Clerk: clerk, Key: key}
		var err error
		if st.Voucher, err = w.readVoucher(id); err != nil {
			return err
		}
		st.Shop, _ = readDoc[ledger.Shop](w, "shops", st.Voucher.ShopID, false, "shop.not_found")
		if hid := st.Voucher.HouseholdID; hid != uuid.Nil {
			h, err := readDoc[ledger.Household](w, "households", hid, false, "household.not_found")
			if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
				return err
			} else if err == nil {
				st.Household = &h
			}
		}
		for range st.Voucher.Lines {
			st.MoveIDs = append(st.MoveIDs, uuid.Must(uuid.NewV7()))
		}
		d, err := ledger.DecideRedeem(st)
		if err != nil || d.Repeat {
			v = d.Voucher
			return err
		}
		v = d.Voucher
		e, err := w.Append(d.Entry)
		if err != nil {
			return err
		}
		v.CloseSeq = e.Seq
		if err := w.writeStock(v, d.VoucherWrite); err != nil {
			return err
		}
		w.addRedeemed(v, e)
		w.addHeld(v, d.Held)
		return w.putVoucher(v)
	})
	return v, err
}

// addRedeemed adds voucher v, redeemed by entry e (or its redemption
// reversed by e, a reverse entry), to the monthly redemption rows of e's
// month: a reversal counts against the month it happens in.
func (w *wtx) addRedeemed(v ledger.Voucher, e ledger.Entry) {
	sign := int64(1)
	if e.Kind == ledger.KindReverse {
		sign = -1
	}
	m := int32(ledger.MonthOf(e.Time, w.s.loc))
	k := v.Account().Key()
	w.Exec(`INSERT INTO redeemed_months (account, month, points, vouchers) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account, month) DO UPDATE SET points = redeemed_months.points + EXCLUDED.points,
			vouchers = redeemed_months.vouchers + EXCLUDED.vouchers`, k[:], m, sign*v.Points, sign)
	var items int64
	ids, qty := make([]uuid.UUID, len(v.Lines)), make([]int64, len(v.Lines))
	for i, l := range v.Lines {
		items += sign * int64(l.Qty)
		ids[i], qty[i] = l.ItemID, sign*int64(l.Qty)
	}
	reversals := int64(0)
	if sign < 0 {
		reversals = 1
	}
	w.Exec(`INSERT INTO shop_months (shop, month, vouchers, items, reversals, last_seq) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (shop, month) DO UPDATE SET vouchers = shop_months.vouchers + EXCLUDED.vouchers,
			items = shop_months.items + EXCLUDED.items, reversals = shop_months.reversals + EXCLUDED.reversals,
			last_seq = GREATEST(shop_months.last_seq, EXCLUDED.last_seq)`, v.ShopID, m, sign, items, reversals, int64(e.Seq))
	w.Exec(`INSERT INTO shop_item_months (shop, month, item, qty) SELECT $1, $2, i, q FROM unnest($3::uuid[], $4::bigint[]) AS u(i, q)
		ON CONFLICT (shop, month, item) DO UPDATE SET qty = shop_item_months.qty + EXCLUDED.qty`, v.ShopID, m, ids, qty)
}

// release lets ledger.PlanRelease decide on st (the voucher and why) and
// writes what it decided: an open voucher's points back to the account it
// holds them from, its stock back. done is false when the voucher was
// passed over.
func (w *wtx) release(st ledger.ReleaseState) (v ledger.Voucher, done bool, err error) {
	st.Now, st.Loc = w.s.now().UTC(), w.s.loc
	d, err := ledger.PlanRelease(st)
	if err != nil || d.Nothing {
		return st.Voucher, false, err
	}
	e, err := w.Append(d.Entry)
	if err != nil {
		return st.Voucher, false, err
	}
	v = d.Voucher
	v.CloseSeq = e.Seq
	if err := w.writeStock(v, d.VoucherWrite); err != nil {
		return v, false, err
	}
	w.addHeld(v, d.Held)
	return v, true, w.putVoucher(v)
}

// CancelVoucher implements ledger.Shops.
func (s *Store) CancelVoucher(ctx context.Context, id, by uuid.UUID) (ledger.Voucher, error) {
	var v ledger.Voucher
	err := s.updatePoints(ctx, func(w *wtx) error {
		old, err := w.readVoucher(id)
		if err != nil {
			return err
		}
		v, _, err = w.release(ledger.ReleaseState{Voucher: old, Cause: ledger.ReleaseCancel, By: by})
		return err
	})
	return v, err
}

// expiryPage is how many due vouchers one step of the expiry sweep reads.
const expiryPage = 1000

// ExpireVouchers implements ledger.Shops. It reads the due vouchers a page at
// a time in expiry order and releases each in a request of its own (they
// share commits), so a bad voucher is skipped and reported while the
// others expire; each request decides again, so two app servers sweeping
// at once release each voucher once.
func (s *Store) ExpireVouchers(ctx context.Context) (ledger.SweepResult, error) {
	res, err := s.alone(ctx, lockVoucherExpiry, s.expireVouchers)
	s.stats.Swept(store.SweepVoucherExpiry, res)
	return res, err
}

func (s *Store) expireVouchers(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	now := s.now().UTC()
	var afterAt int64 = -1 << 63
	after := uuid.Nil
	for {
		rows, err := s.pool.Query(ctx, `SELECT id, expires_at FROM vouchers WHERE expires_at IS NOT NULL AND expires_at <= $1
			AND (expires_at, id) > ($2, $3) ORDER BY expires_at, id LIMIT `+itoa(expiryPage), now.UnixNano(), afterAt, after)
		if err != nil {
			return res, unavailable(err)
		}
		var due []uuid.UUID
		for rows.Next() {
			var id uuid.UUID
			if err := rows.Scan(&id, &afterAt); err != nil {
				rows.Close()
				return res, unavailable(err)
			}
			due, after = append(due, id), id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, unavailable(err)
		}
		if err := s.sweep(ctx, due, &res, func(w *wtx, i int) (bool, error) {
			v, err := w.readVoucher(due[i])
			if err != nil {
				return false, err
			}
			_, done, err := w.release(ledger.ReleaseState{Voucher: v, Cause: ledger.ReleaseExpiry})
			return done, err
		}); err != nil {
			return res, err // the database cannot be reached: stop the sweep
		}
		if len(due) < expiryPage {
			return res, nil
		}
	}
}

// ReverseRedemption implements ledger.Shops: read the voucher, its redeem
// entry and who reversed it before; let ledger.ReverseRedemption decide;
// write what it decided. The reverse entry is the first write, so a
// refusal leaves nothing; anything failing after it fails the request.
func (s *Store) ReverseRedemption(ctx context.Context, id, by uuid.UUID, reason, key string) (ledger.Voucher, error) {
	var v ledger.Voucher
	err := s.updatePoints(ctx, func(w *wtx) error {
		var err error
		if v, err = w.readVoucher(id); err != nil {
			return err
		}
		var redeem ledger.Entry
		if v.Status == ledger.VoucherRedeemed {
			if redeem, err = w.Entry(v.CloseSeq); err != nil {
				return err
			}
		}
		reverser := ""
		if v.Status == ledger.VoucherReversed {
			if u, err := w.readUser(v.ReversedBy); err == nil {
				reverser = cmp.Or(u.Name, u.Login)
			}
		}
		req := ledger.ReversalRequest{By: by, Reason: reason, Key: key, Now: s.now()}
		for range v.Lines {
			req.MoveIDs = append(req.MoveIDs, uuid.Must(uuid.NewV7()))
		}
		d, err := ledger.ReverseRedemption(v, redeem, reverser, req, s.loc)
		if err != nil {
			return err
		}
		if d.Repeat {
			v = d.Voucher
			return nil
		}
		rev, err := w.Append(d.Reverse)
		if err != nil {
			return err
		}
		rel, err := w.Append(d.Release)
		if err != nil {
			return err
		}
		if err := w.writeStock(v, ledger.VoucherWrite{Stock: d.Changes, Counts: d.Counts, Moves: d.Stock}); err != nil {
			return err
		}
		v = d.Voucher
		v.ReverseSeq, v.ReleaseSeq = rev.Seq, rel.Seq
		w.addRedeemed(v, rev)
		return w.putVoucher(v)
	})
	return v, err
}

// ShopRedemptions implements ledger.Shops. The walk starts at the shop's
// last redemption or reversal of the latest month (up to the one to falls
// in) that has one, and goes back through the shop account's entries to
// from; entries after to are passed over. Every entry of the period is
// read for the totals; the vouchers only of the page's lines.
func (s *Store) ShopRedemptions(ctx context.Context, shopID uuid.UUID, from, to time.Time, before uint64, limit int) (ledger.RedemptionPage, error) {
	page := ledger.RedemptionPage{Redemptions: []ledger.Redemption{}}
	if limit < 1 || !to.After(from) {
		return page, ledger.Errorf(ledger.EINVALID, "redemptions.period_invalid")
	}
	if _, err := s.Shop(ctx, shopID); err != nil {
		return page, err
	}
	acct := ledger.ShopAccount(shopID)
	if before != 0 {
		es, err := s.Entries(ctx, before-1, 1)
		if err != nil || len(es) != 1 || es[0].Seq != before || (es[0].Debit != acct && es[0].Credit != acct) {
			return page, ledger.Errorf(ledger.EINVALID, "entry.cursor_invalid", before)
		}
	}
	var last int64
	err := s.pool.QueryRow(ctx, `SELECT last_seq FROM shop_months WHERE shop = $1 AND month <= $2 ORDER BY month DESC LIMIT 1`,
		shopID, int32(ledger.MonthOf(to.Add(-time.Nanosecond), s.loc))).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		return page, nil
	}
	if err != nil {
		return page, unavailable(err)
	}
	cursor := last + 1
	for {
		es, err := s.entriesBelow(ctx, acct, cursor, 500)
		if err != nil {
			return page, err
		}
		if len(es) == 0 {
			return page, nil
		}
		for _, e := range es {
			cursor = int64(e.Seq)
			if !e.Time.Before(to) {
				continue
			}
			if e.Time.Before(from) {
				return page, nil
			}
			vo, sign, ok, err := s.redemptionOfEntry(ctx, &e)
			if err != nil {
				return page, err
			}
			if !ok {
				continue // a redeem appended directly to the journal, naming no voucher
			}
			page.Points += sign * e.Amount
			if sign > 0 {
				page.Redeemed++
			} else {
				page.Reversed++
			}
			switch {
			case before != 0 && e.Seq >= before:
			case len(page.Redemptions) == limit:
				if page.Before == 0 {
					page.Before = page.Redemptions[limit-1].Seq
				}
			default:
				page.Redemptions = append(page.Redemptions, ledger.Redemption{Seq: e.Seq, Time: e.Time, Kind: e.Kind,
					Points: sign * e.Amount, Voucher: vo})
			}
		}
		if err := ctx.Err(); err != nil {
			return page, err
		}
	}
}

// redemptionOfEntry says what entry e does to the redemption rows: for a
// redeem entry naming a voucher, the voucher and +1; for the reverse of
// such an entry, the voucher and -1; else ok is false.
func (s *Store) redemptionOfEntry(ctx context.Context, e *ledger.Entry) (v ledger.Voucher, sign int64, ok bool, err error) {
	target, sign := *e, int64(1)
	if e.Kind == ledger.KindReverse {
		es, err := s.Entries(ctx, e.Reverses-1, 1)
		if err != nil || len(es) != 1 {
			return v, 0, false, err
		}
		target, sign = es[0], -1
	}
	if target.Kind != ledger.KindRedeem {
		return v, 0, false, nil
	}
	ref, found := strings.CutPrefix(target.Reference, "voucher:")
	id, perr := uuid.Parse(ref)
	if !found || perr != nil {
		return v, 0, false, nil
	}
	v, err = s.Voucher(ctx, id)
	if ledger.ErrorCode(err) == ledger.ENOTFOUND {
		return v, 0, false, nil
	}
	return v, sign, err == nil, err
}
