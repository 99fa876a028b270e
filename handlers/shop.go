package handlers

import (
	"context"
	"net/http"
	"strconv"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"
)

// voucherKeyID is the id of the key that signs new voucher tokens. Tokens
// carry it, so the key can be rotated: add key 2, sign with it, keep 1 for
// checking until the last voucher under it has expired.
const voucherKeyID = 1

func (s *server) voucherKeys(ctx context.Context) (map[byte][]byte, error) {
	k, err := s.cfg.Secret(ctx, "voucher-key-1")
	if err != nil {
		return nil, err
	}
	return map[byte][]byte{voucherKeyID: k}, nil
}

// shopView is a shop with its unit's name and, for staff, the points
// redeemed there so far.
type shopView struct {
	ledger.Shop
	UnitName       string         `json:"unit_name"`
	RedeemedPoints *ledger.Points `json:"redeemed_points,omitempty"`
}

// shopFor loads a shop and says whether the caller may see it: staff over
// its unit, the clerk of the shop, or a volunteer whose vouchers it takes.
func (s *server) shopFor(c echo.Context, id uuid.UUID) (ledger.Shop, ledger.Unit, error) {
	ctx := c.Request().Context()
	sh, err := s.cfg.Shops.Shop(ctx, id)
	if err != nil {
		return sh, ledger.Unit{}, err
	}
	unit, err := s.cfg.Directory.Unit(ctx, sh.UnitID)
	if err != nil {
		return sh, unit, err
	}
	u, _ := currentUser(c)
	ok := false
	switch u.Role {
	case ledger.RoleAdmin, ledger.RoleOrganizer:
		ok = scopeOf(u).Covers(unit)
	case ledger.RoleClerk:
		ok = u.ShopID == sh.ID
	case ledger.RoleVolunteer:
		if m, err := s.cfg.Directory.Member(ctx, u.MemberID); err == nil {
			if mu, err := s.cfg.Directory.Unit(ctx, m.UnitID); err == nil {
				ok = sh.Takes(unit, mu)
			}
		}
	}
	if !ok {
		return sh, unit, ledger.Errorf(ledger.ENOTFOUND, "shop.not_found")
	}
	return sh, unit, nil
}

func (s *server) createShop(c echo.Context) error {
	var req struct {
		Name        string             `json:"name"`
		Kind        ledger.ShopKind    `json:"kind"`
		UnitID      uuid.UUID          `json:"unit_id"`
		RedeemScope ledger.RedeemScope `json:"redeem_scope"`
		Households  bool               `json:"households"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	unit, err := s.unitInScope(c, req.UnitID)
	if err != nil {
		return err
	}
	sh, err := s.cfg.Shops.CreateShop(c.Request().Context(), ledger.Shop{Name: req.Name, Kind: req.Kind, UnitID: req.UnitID, RedeemScope: req.RedeemScope, Households: req.Households})
	if err != nil {
		return err
	}
	sh.CreatedAt = sh.CreatedAt.In(s.cfg.Location)
	return c.JSON(http.StatusCreated, shopView{Shop: sh, UnitName: unit.Name})
}

func (s *server) listShops(c echo.Context) error {
	all, err := s.cfg.Shops.Shops(c.Request().Context())
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	staff := u.Role != ledger.RoleVolunteer
	out := []shopView{}
	for _, sh := range all {
		if _, unit, err := s.shopFor(c, sh.ID); err == nil {
			sh.CreatedAt = sh.CreatedAt.In(s.cfg.Location)
			v := shopView{Shop: sh, UnitName: unit.Name}
			if staff {
				if b, err := s.cfg.Journal.Balance(c.Request().Context(), ledger.ShopAccount(sh.ID)); err == nil {
					v.RedeemedPoints = &b.Points
				}
			}
			out = append(out, v)
		}
	}
	return c.JSON(http.StatusOK, map[string][]shopView{"shops": out})
}

// itemView is an item with what can still be put on vouchers.
type itemView struct {
	ledger.Item
	Available  int    `json:"available"`
	PictureURL string `json:"picture_url,omitempty"`
	// TakenThisMonth is, for a volunteer and an item with a monthly limit,
	// how many they have on this month's vouchers.
	TakenThisMonth *int `json:"taken_this_month,omitempty"`
}

func viewItem(it ledger.Item) itemView {
	v := itemView{Item: it, Available: it.Available()}
	if it.Picture != "" {
		v.PictureURL = "/api/v1/items/" + it.ID.String() + "/picture?v=" + it.Picture
	}
	return v
}

func (s *server) createItem(c echo.Context) error {
	id, err := paramID(c, "id", "shop.not_found")
	if err != nil {
		return err
	}
	var req struct {
		Name         string        `json:"name"`
		Points       ledger.Points `json:"points"`
		Stock        int           `json:"stock"`
		MonthlyLimit int           `json:"monthly_limit"`
		Active       *bool         `json:"active"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if _, _, err := s.shopFor(c, id); err != nil {
		return err
	}
	if req.Stock < 0 || req.Stock > 100000 {
		return ledger.Errorf(ledger.EINVALID, "stock.qty_invalid")
	}
	ctx := c.Request().Context()
	it, err := s.cfg.Shops.CreateItem(ctx, ledger.Item{ShopID: id, Name: req.Name, Points: req.Points, MonthlyLimit: req.MonthlyLimit,
		Active: req.Active == nil || *req.Active})
	if err != nil {
		return err
	}
	if req.Stock > 0 {
		u, _ := currentUser(c)
		if it, err = s.cfg.Shops.MoveStock(ctx, ledger.StockMove{ItemID: it.ID, Kind: ledger.StockIntake, Qty: req.Stock, Note: "opening stock", By: u.ID}); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusCreated, viewItem(it))
}

func (s *server) listItems(c echo.Context) error {
	id, err := paramID(c, "id", "shop.not_found")
	if err != nil {
		return err
	}
	if _, _, err := s.shopFor(c, id); err != nil {
		return err
	}
	items, err := s.cfg.Shops.Items(c.Request().Context(), id)
	if err != nil {
		return err
	}
	// A volunteer sees how much of each limited item they have had this month.
	var taken map[uuid.UUID]int
	if u, _ := currentUser(c); u.Role == ledger.RoleVolunteer {
		var limited []uuid.UUID
		for _, it := range items {
			if it.MonthlyLimit > 0 {
				limited = append(limited, it.ID)
			}
		}
		if taken, err = s.cfg.Shops.Taken(c.Request().Context(), u.MemberID, limited); err != nil {
			return err
		}
	}
	out := make([]itemView, 0, len(items))
	for _, it := range items {
		v := viewItem(it)
		if it.MonthlyLimit > 0 && taken != nil {
			n := taken[it.ID]
			v.TakenThisMonth = &n
		}
		out = append(out, v)
	}
	return c.JSON(http.StatusOK, map[string][]itemView{"items": out})
}

// itemInScope loads the item of path parameter id if the caller may see its
// shop; any other item is "not found".
func (s *server) itemInScope(c echo.Context) (ledger.Item, error) {
	id, err := paramID(c, "id", "item.not_found")
	if err != nil {
		return ledger.Item{}, err
	}
	it, err := s.cfg.Shops.Item(c.Request().Context(), id)
	if err != nil {
		return it, err
	}
	if _, _, err := s.shopFor(c, it.ShopID); err != nil {
		return it, ledger.Errorf(ledger.ENOTFOUND, "item.not_found")
	}
	return it, nil
}

func (s *server) updateItem(c echo.Context) error {
	it, err := s.itemInScope(c)
	if err != nil {
		return err
	}
	var req struct {
		Name         *string        `json:"name"`
		Points       *ledger.Points `json:"points"`
		MonthlyLimit *int           `json:"monthly_limit"`
		Active       *bool          `json:"active"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if req.Name != nil {
		it.Name = *req.Name
	}
	if req.Points != nil {
		it.Points = *req.Points
	}
	if req.MonthlyLimit != nil {
		it.MonthlyLimit = *req.MonthlyLimit
	}
	if req.Active != nil {
		it.Active = *req.Active
	}
	if it, err = s.cfg.Shops.UpdateItem(ctx, it); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewItem(it))
}

func (s *server) moveStock(c echo.Context) error {
	it, err := s.itemInScope(c)
	if err != nil {
		return err
	}
	var req struct {
		Kind  string `json:"kind"`
		Qty   int    `json:"qty"`
		Donor string `json:"donor"`
		Note  string `json:"note"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	if it, err = s.cfg.Shops.MoveStock(ctx, ledger.StockMove{ItemID: it.ID, Kind: req.Kind, Qty: req.Qty, Donor: req.Donor, Note: req.Note, By: u.ID}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewItem(it))
}

// setItemPicture stores an uploaded picture (multipart field "file"); its
// type is sniffed from its bytes, not taken from the client.
func (s *server) setItemPicture(c echo.Context) error {
	it, err := s.itemInScope(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	if u.Role != ledger.RoleAdmin && u.Role != ledger.RoleOrganizer {
		return ledger.Errorf(ledger.EFORBIDDEN, "auth.forbidden")
	}
	_, data, err := uploadedFile(c, "upload.no_picture")
	if err != nil {
		return err
	}
	if err := s.cfg.Shops.SetItemPicture(ctx, it.ID, http.DetectContentType(data), data); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// itemPicture serves an item's picture to whoever may see its shop.
func (s *server) itemPicture(c echo.Context) error {
	it, err := s.itemInScope(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ctype, data, err := s.cfg.Shops.ItemPicture(ctx, it.ID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, ctype, data)
}

// voucherView is a voucher as its owner, organisers and the counter see it,
// with who made it (and whether it is a 代兑 voucher), redeemed it and
// reversed its redemption.
type voucherView struct {
	ledger.Voucher
	Token      string `json:"token"`
	ShopName   string `json:"shop_name"`
	MemberName string `json:"member_name"` // masked
	QRURL      string `json:"qr_url"`
	auditView
}

func (s *server) viewVoucher(ctx context.Context, v ledger.Voucher) (voucherView, error) {
	return s.viewVoucherWith(ctx, s.names(ctx), v)
}

// viewVoucherWith is viewVoucher for a list: n remembers the names it looked up.
func (s *server) viewVoucherWith(ctx context.Context, n *names, v ledger.Voucher) (voucherView, error) {
	keys, err := s.voucherKeys(ctx)
	if err != nil {
		return voucherView{}, err
	}
	out := voucherView{Voucher: v, Token: ledger.VoucherToken(keys[voucherKeyID], voucherKeyID, v.ID), QRURL: "/api/v1/vouchers/" + v.ID.String() + "/qr.png"}
	out.CreatedAt, out.ExpiresAt = v.CreatedAt.In(s.cfg.Location), v.ExpiresAt.In(s.cfg.Location)
	if !v.ClosedAt.IsZero() {
		out.ClosedAt = v.ClosedAt.In(s.cfg.Location)
	}
	if !v.ReversedAt.IsZero() {
		out.ReversedAt = v.ReversedAt.In(s.cfg.Location)
	}
	out.ShopName, out.MemberName, out.auditView = n.shop(v.ShopID), n.member(v.MemberID), n.audit(v)
	return out, nil
}

// voucherFor loads the voucher of path parameter id for its owner or staff over the member.
func (s *server) voucherFor(c echo.Context) (ledger.Voucher, error) {
	id, err := paramID(c, "id", "voucher.not_found")
	if err != nil {
		return ledger.Voucher{}, err
	}
	ctx := c.Request().Context()
	v, err := s.cfg.Shops.Voucher(ctx, id)
	if err != nil {
		return v, err
	}
	if !s.mayActFor(c, v.MemberID) {
		return v, ledger.Errorf(ledger.ENOTFOUND, "voucher.not_found")
	}
	return v, nil
}

// mayActFor says whether the caller is the member or staff over them.
func (s *server) mayActFor(c echo.Context, memberID uuid.UUID) bool {
	u, _ := currentUser(c)
	if u.Role == ledger.RoleVolunteer {
		return u.MemberID == memberID
	}
	if u.Role != ledger.RoleAdmin && u.Role != ledger.RoleOrganizer {
		return false
	}
	m, err := s.cfg.Directory.Member(c.Request().Context(), memberID)
	if err != nil {
		return false
	}
	_, err = s.unitInScope(c, m.UnitID)
	return err == nil
}

// issueVoucher makes a voucher: a volunteer's own, or an organiser's for a
// member in scope, which needs the member there (their card scanned, their
// password typed) or else the explicit choice of a 代兑 voucher. With
// household_id it is paid from that household's points, if the member may
// spend them (ledger.SpendFrom).
func (s *server) issueVoucher(c echo.Context) error {
	var req struct {
		MemberID    uuid.UUID                   `json:"member_id"`
		ShopID      uuid.UUID                   `json:"shop_id"`
		Items       []ledger.VoucherRequestLine `json:"items"`
		HouseholdID uuid.UUID                   `json:"household_id"`
		presenceRequest
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	// Vouchers hold points and stock: a flood of them from one account is refused.
	u, _ := currentUser(c)
	if err := s.hit(c.Request().Context(), s.vouchers, u.ID.String(), s.cfg.Now()); err != nil {
		return err
	}
	if u.Role == ledger.RoleVolunteer {
		if req.MemberID != uuid.Nil && req.MemberID != u.MemberID {
			return ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
		}
		req.MemberID = u.MemberID
	} else if !s.mayActFor(c, req.MemberID) {
		return ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
	}
	if u.Role == ledger.RoleVolunteer {
		if _, _, err := s.shopFor(c, req.ShopID); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	key, err := clientKey(c, u)
	if err != nil {
		return err
	}
	presence, err := s.presence(c, u, req.MemberID, req.presenceRequest)
	if err != nil {
		return err
	}
	var v ledger.Voucher
	if req.HouseholdID != uuid.Nil {
		v, err = s.cfg.Households.IssueHouseholdVoucher(ctx, req.MemberID, req.HouseholdID, req.ShopID, req.Items, u.ID, presence, key)
	} else {
		v, err = s.cfg.Shops.IssueVoucher(ctx, req.MemberID, req.ShopID, req.Items, u.ID, presence, key)
	}
	if err != nil {
		return err
	}
	view, err := s.viewVoucher(ctx, v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, view)
}

func (s *server) listVouchers(c echo.Context) error {
	u, _ := currentUser(c)
	member, err := queryID(c, "member_id")
	if err != nil {
		return err
	}
	if member == uuid.Nil && u.Role == ledger.RoleVolunteer {
		member = u.MemberID
	}
	if member == uuid.Nil || !s.mayActFor(c, member) {
		return ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
	}
	ctx := c.Request().Context()
	list, err := s.cfg.Shops.MemberVouchers(ctx, member)
	if err != nil {
		return err
	}
	out := make([]voucherView, 0, len(list))
	n := s.names(ctx)
	for _, v := range list {
		view, err := s.viewVoucherWith(ctx, n, v)
		if err != nil {
			return err
		}
		out = append(out, view)
	}
	return c.JSON(http.StatusOK, map[string][]voucherView{"vouchers": out})
}

func (s *server) getVoucher(c echo.Context) error {
	v, err := s.voucherFor(c)
	if err != nil {
		return err
	}
	view, err := s.viewVoucher(c.Request().Context(), v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view)
}

func (s *server) voucherQR(c echo.Context) error {
	v, err := s.voucherFor(c)
	if err != nil {
		return err
	}
	size := 256
	if q := c.QueryParam("size"); q != "" {
		if size, err = strconv.Atoi(q); err != nil || size < 128 || size > 1024 {
			return ledger.Errorf(ledger.EINVALID, "query.uint_invalid", "size", truncate(q, 10))
		}
	}
	keys, err := s.voucherKeys(c.Request().Context())
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(ledger.VoucherToken(keys[voucherKeyID], voucherKeyID, v.ID), qrcode.Medium, size)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=86400")
	return c.Blob(http.StatusOK, "image/png", png)
}

func (s *server) cancelVoucher(c echo.Context) error {
	v, err := s.voucherFor(c)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	if v, err = s.cfg.Shops.CancelVoucher(ctx, v.ID, u.ID); err != nil {
		return err
	}
	view, err := s.viewVoucher(ctx, v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view)
}

// requireShop refuses a clerk who is bound to no shop.
func requireShop(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, _ := currentUser(c); u.ShopID == uuid.Nil {
			return ledger.Errorf(ledger.EFORBIDDEN, "user.shop_required")
		}
		return next(c)
	}
}

// counterVoucher finds the voucher a clerk scanned or typed: a token is
// checked before any lookup; a short code's check character too, and wrong
// codes are rate-limited per kiosk.
func (s *server) counterVoucher(c echo.Context, token, code string) (ledger.Voucher, error) {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	switch {
	case token != "":
		keys, err := s.voucherKeys(ctx)
		if err != nil {
			return ledger.Voucher{}, err
		}
		id, err := ledger.ParseVoucherToken(keys, token)
		if err != nil {
			return ledger.Voucher{}, err
		}
		return s.cfg.Shops.Voucher(ctx, id)
	case code != "":
		now := s.cfg.Now()
		key := "code:" + u.ID.String()
		if err := s.blocked(ctx, s.codeGuess, key, now); err != nil {
			return ledger.Voucher{}, err
		}
		v, err := s.cfg.Shops.VoucherByCode(ctx, code)
		if err != nil {
			// The lookup's error is the answer; a guess that could not be
			// counted is logged, and the next look at the count fails
			// closed while it stays out of reach.
			if _, herr := s.limits.HitLimit(ctx, s.codeGuess, key, now); herr != nil {
				s.cfg.Logger.WarnContext(ctx, "rate limit not counted", "limit", s.codeGuess.Name, "err", herr)
			}
		}
		return v, err
	}
	return ledger.Voucher{}, ledger.Errorf(ledger.EINVALID, "voucher.token_invalid")
}

// counterShopVoucher is counterVoucher for a voucher of the clerk's own shop.
func (s *server) counterShopVoucher(c echo.Context, token, code string) (ledger.Voucher, error) {
	v, err := s.counterVoucher(c, token, code)
	if err != nil {
		return v, err
	}
	u, _ := currentUser(c)
	if v.ShopID != u.ShopID {
		sh, _ := s.cfg.Shops.Shop(c.Request().Context(), v.ShopID)
		return v, ledger.Errorf(ledger.ECONFLICT, "voucher.other_shop", sh.Name)
	}
	return v, nil
}

func (s *server) previewRedemption(c echo.Context) error {
	v, err := s.counterShopVoucher(c, c.QueryParam("token"), c.QueryParam("code"))
	if err != nil {
		return err
	}
	view, err := s.viewVoucher(c.Request().Context(), v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]voucherView{"voucher": view})
}

func (s *server) redeem(c echo.Context) error {
	var req struct {
		Token string `json:"token"`
		Code  string `json:"code"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	key, err := clientKey(c, u)
	if err != nil {
		return err
	}
	v, err := s.counterShopVoucher(c, req.Token, req.Code)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if v, err = s.cfg.Shops.RedeemVoucher(ctx, v.ID, u.ShopID, u.ID, key); err != nil {
		return err
	}
	view, err := s.viewVoucher(ctx, v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"voucher": view, "redeemed_at": view.ClosedAt})
}
