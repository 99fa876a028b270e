package handlers

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// What organisers see of a shop after the fact, and what they can undo:
// the redemptions by day or month (with who redeemed, and on whose behalf),
// the stock that came in with its donors, and the reversal of a redemption
// made by mistake. And how an organiser's voucher for a member shows that
// the member was there (their card or their password), or else is a 代兑
// (proxy) voucher, signed for on its slip and listed as such.

// names looks up and remembers the names a list shows: members (masked),
// staff and shops, so that a list of a hundred redemptions by three clerks
// asks for each name once.
type names struct {
	s       *server
	ctx     context.Context
	members map[uuid.UUID]string
	users   map[uuid.UUID]string
	shops   map[uuid.UUID]string
}

func (s *server) names(ctx context.Context) *names {
	return &names{s: s, ctx: ctx, members: map[uuid.UUID]string{}, users: map[uuid.UUID]string{}, shops: map[uuid.UUID]string{}}
}

// member is a member's name masked as a counter or a list shows it (李**).
func (n *names) member(id uuid.UUID) string {
	name, ok := n.members[id]
	if !ok {
		if m, err := n.s.cfg.Directory.Member(n.ctx, id); err == nil {
			name = ledger.MaskName(m.Name)
		}
		n.members[id] = name
	}
	return name
}

// user is a staff member's name, or their login when they have none; empty
// for nobody (a voucher a volunteer made, a sweep).
func (n *names) user(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	name, ok := n.users[id]
	if !ok {
		if u, err := n.s.cfg.Users.UserByID(n.ctx, id); err == nil && u.Role != ledger.RoleVolunteer {
			name = cmp.Or(u.Name, u.Login)
		}
		n.users[id] = name
	}
	return name
}

func (n *names) shop(id uuid.UUID) string {
	name, ok := n.shops[id]
	if !ok {
		if sh, err := n.s.cfg.Shops.Shop(n.ctx, id); err == nil {
			name = sh.Name
		}
		n.shops[id] = name
	}
	return name
}

// auditView is what every voucher view adds for an audit: who made it and
// how the member was there, who redeemed it, and who reversed it.
type auditView struct {
	// CreatedByName names the staff member who made the voucher (empty for
	// the member's own).
	CreatedByName string `json:"created_by_name,omitempty"`
	// Proxy marks a 代兑 voucher: made on the member's behalf without their
	// card or password.
	Proxy bool `json:"proxy,omitempty"`
	// RedeemedByName names the clerk who redeemed it.
	RedeemedByName string `json:"redeemed_by_name,omitempty"`
	// ReversedByName names the organiser who reversed its redemption.
	ReversedByName string `json:"reversed_by_name,omitempty"`
}

func (n *names) audit(v ledger.Voucher) auditView {
	a := auditView{CreatedByName: n.user(v.CreatedBy), Proxy: v.Presence == ledger.PresenceProxy, ReversedByName: n.user(v.ReversedBy)}
	if v.Status == ledger.VoucherRedeemed || v.Status == ledger.VoucherReversed {
		a.RedeemedByName = n.user(v.ClosedBy)
	}
	return a
}

// redemptionView is one line of a shop's redemption list: a redemption
// (kind redeem), or the reversal of one (kind reverse, points negative).
type redemptionView struct {
	Seq        uint64                `json:"seq"`
	Kind       ledger.Kind           `json:"kind"`
	At         time.Time             `json:"at"`
	Points     ledger.Points         `json:"points"`
	VoucherID  uuid.UUID             `json:"voucher_id"`
	MemberName string                `json:"member_name"` // masked
	Lines      []ledger.VoucherLine  `json:"lines"`
	Status     ledger.VoucherStatus  `json:"status"` // the voucher's status now: redeemed, or reversed
	Presence   ledger.PresenceMethod `json:"presence,omitempty"`
	RedeemedAt time.Time             `json:"redeemed_at"`
	CreatedAt  time.Time             `json:"created_at"`
	ReversedAt time.Time             `json:"reversed_at,omitzero"`
	Reason     string                `json:"reverse_reason,omitempty"`
	auditView
	// HouseholdID names the household whose points paid the voucher (家庭积分).
	HouseholdID uuid.UUID `json:"household_id,omitzero"`
}

// redemptionsPage is a shop's redemptions in a period.
type redemptionsPage struct {
	Period      string           `json:"period"` // the day (YYYY-MM-DD) or month (YYYY-MM) listed
	Redemptions []redemptionView `json:"redemptions"`
	NextBefore  uint64           `json:"next_before,omitempty"`
	TotalPoints ledger.Points    `json:"total_points"`
	Redeemed    int              `json:"redeemed"`
	Reversed    int              `json:"reversed"`
}

func (s *server) viewRedemptions(n *names, period string, p ledger.RedemptionPage) redemptionsPage {
	out := redemptionsPage{Period: period, Redemptions: make([]redemptionView, 0, len(p.Redemptions)), NextBefore: p.Before,
		TotalPoints: p.Points, Redeemed: p.Redeemed, Reversed: p.Reversed}
	loc := s.cfg.Location
	for _, r := range p.Redemptions {
		v := r.Voucher
		line := redemptionView{Seq: r.Seq, Kind: r.Kind, At: r.Time.In(loc), Points: r.Points, VoucherID: v.ID, MemberName: n.member(v.MemberID),
			Lines: v.Lines, Status: v.Status, Presence: v.Presence, RedeemedAt: v.ClosedAt.In(loc), CreatedAt: v.CreatedAt.In(loc),
			Reason: v.ReverseReason, auditView: n.audit(v), HouseholdID: v.HouseholdID}
		if !v.ReversedAt.IsZero() {
			line.ReversedAt = v.ReversedAt.In(loc)
		}
		out.Redemptions = append(out.Redemptions, line)
	}
	return out
}

// maxRedemptionsPage bounds a page of a shop's redemptions.
const maxRedemptionsPage = 500

// parsePeriod reads the period a list asks for: ?day=YYYY-MM-DD or
// ?month=YYYY-MM (not both), by default the month of now, in loc. It
// returns the period's first instant, the first instant after it, and its
// name as given.
func parsePeriod(q url.Values, now time.Time, loc *time.Location) (from, to time.Time, name string, err error) {
	day, month := q.Get("day"), q.Get("month")
	switch {
	case len(q["day"]) > 1 || len(q["month"]) > 1 || (day != "" && month != ""):
		return from, to, "", ledger.Errorf(ledger.EINVALID, "redemptions.period_one")
	case day != "":
		if from, to, err = ledger.ParseDay(day, loc); err != nil {
			return from, to, "", err
		}
		return from, to, day, nil
	}
	m := ledger.MonthOf(now, loc)
	if month != "" {
		if m, err = ledger.ParseMonth(month); err != nil {
			return from, to, "", err
		}
	}
	from, to = m.Span(loc)
	return from, to, m.String(), nil
}

// shopInScope loads the shop of path parameter id for an organiser (or
// administrator) whose scope covers the shop's unit; any other shop is
// "not found".
func (s *server) shopInScope(c echo.Context) (ledger.Shop, error) {
	id, err := paramID(c, "id", "shop.not_found")
	if err != nil {
		return ledger.Shop{}, err
	}
	sh, _, err := s.shopFor(c, id)
	return sh, err
}

// shopRedemptions lists a shop's redemptions of a day or a month, newest
// first, paged, with the period's totals.
func (s *server) shopRedemptions(c echo.Context) error {
	sh, err := s.shopInScope(c)
	if err != nil {
		return err
	}
	for k := range c.QueryParams() {
		switch k {
		case "day", "month", "before", "limit", "lang":
		default:
			return ledger.Errorf(ledger.EINVALID, "redemptions.param_unknown", truncate(k, 32))
		}
	}
	from, to, period, err := parsePeriod(c.QueryParams(), s.cfg.Now(), s.cfg.Location)
	if err != nil {
		return err
	}
	before, err := queryUint(c, "before", 0)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, 100, maxRedemptionsPage)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.cfg.Shops.ShopRedemptions(ctx, sh.ID, from, to, before, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.viewRedemptions(s.names(ctx), period, p))
}

// redemptionsToday lists the clerk's shop's redemptions since midnight, and
// the reversals made today, from the shop account's entries.
func (s *server) redemptionsToday(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	now := s.cfg.Now().In(s.cfg.Location)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.cfg.Location)
	to := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, s.cfg.Location)
	p, err := s.cfg.Shops.ShopRedemptions(ctx, u.ShopID, from, to, 0, maxRedemptionsPage)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.viewRedemptions(s.names(ctx), from.Format("2006-01-02"), p))
}

// stockMoveView is a stock movement as the shop's page lists it.
type stockMoveView struct {
	ledger.StockMove
	ItemName string `json:"item_name"`
	ByName   string `json:"by_name,omitempty"`
}

// shopStockMoves lists a month's stock movements of a shop but its
// redemptions: the goods that came in with their donors, stocktake
// corrections, and the items of reversed redemptions.
func (s *server) shopStockMoves(c echo.Context) error {
	sh, err := s.shopInScope(c)
	if err != nil {
		return err
	}
	for k := range c.QueryParams() {
		if k != "month" && k != "lang" {
			return ledger.Errorf(ledger.EINVALID, "redemptions.param_unknown", truncate(k, 32))
		}
	}
	m := ledger.MonthOf(s.cfg.Now(), s.cfg.Location)
	if q := c.QueryParam("month"); q != "" {
		if m, err = ledger.ParseMonth(q); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	moves, err := s.cfg.Shops.ShopStockMoves(ctx, sh.ID, m)
	if err != nil {
		return err
	}
	items, err := s.cfg.Shops.Items(ctx, sh.ID)
	if err != nil {
		return err
	}
	itemName := make(map[uuid.UUID]string, len(items))
	for _, it := range items {
		itemName[it.ID] = it.Name
	}
	n := s.names(ctx)
	out := make([]stockMoveView, 0, len(moves))
	in := 0
	for _, mv := range moves {
		mv.At = mv.At.In(s.cfg.Location)
		out = append(out, stockMoveView{StockMove: mv, ItemName: itemName[mv.ItemID], ByName: n.user(mv.By)})
		if mv.Kind == ledger.StockIntake {
			in += mv.Qty
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"month": m.String(), "moves": out, "intake_qty": in})
}

// reverseRedemption undoes a redemption made by mistake: an organiser (or
// administrator) whose scope covers the voucher's shop gives a reason;
// points and items come back, once. An Idempotency-Key makes a retry of a
// lost answer the same reversal.
func (s *server) reverseRedemption(c echo.Context) error {
	id, err := paramID(c, "id", "voucher.not_found")
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	key, err := clientKey(c, u)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := s.cfg.Shops.Voucher(ctx, id)
	if err != nil {
		return err
	}
	if _, _, err := s.shopFor(c, v.ShopID); err != nil {
		return ledger.Errorf(ledger.ENOTFOUND, "voucher.not_found")
	}
	if v, err = s.cfg.Shops.ReverseRedemption(ctx, v.ID, u.ID, req.Reason, key); err != nil {
		return err
	}
	view, err := s.viewVoucher(ctx, v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view)
}

// presenceRequest is what an organiser's voucher request says of the member:
// how they are there, and their card's code or the password they typed.
type presenceRequest struct {
	Presence       ledger.PresenceMethod `json:"presence"`
	MemberCard     string                `json:"member_card"`
	MemberPassword string                `json:"member_password"`
}

// presence checks what needs a secret or a password hash — the card's
// signature, the member's password, counted against the member's login
// attempts before it is checked — and lets ledger.CheckPresence decide.
func (s *server) presence(c echo.Context, u ledger.User, member uuid.UUID, req presenceRequest) (ledger.PresenceMethod, error) {
	proof := ledger.PresenceProof{Method: req.Presence}
	if u.Role == ledger.RoleAdmin || u.Role == ledger.RoleOrganizer {
		ctx := c.Request().Context()
		switch req.Presence {
		case ledger.PresenceCard:
			key, err := s.cfg.Secret(ctx, "member-card")
			if err != nil {
				return "", err
			}
			if proof.CardMember, err = ledger.ParseCard(key, req.MemberCard); err != nil {
				return "", err
			}
		case ledger.PresencePassword:
			ok, own, err := s.memberPasswordOK(c, member, req.MemberPassword)
			if err != nil {
				return "", err
			}
			proof.PasswordOK, proof.OwnPassword = ok, own
		}
	}
	return ledger.CheckPresence(u, member, proof)
}

// memberPasswordOK checks the password a member typed on an organiser's
// screen as login does: the try is counted against the member's login
// (their phone) before the hash is checked, so parallel guesses cannot all
// pass the limit, and 5 wrong tries lock it, for logging in too, for 15
// minutes. A member without a password, or without a login, costs the same
// time and answers the same as a wrong password.
func (s *server) memberPasswordOK(c echo.Context, member uuid.UUID, password string) (ok, own bool, err error) {
	ctx := c.Request().Context()
	m, err := s.cfg.Directory.Member(ctx, member)
	if err != nil {
		return false, false, err
	}
	key := strings.ToLower(m.Phone)
	if err := s.hit(ctx, s.loginFail, key, s.cfg.Now()); err != nil {
		return false, false, err
	}
	if len(password) > maxPasswordLen {
		return false, false, ledger.Errorf(ledger.EINVALID, "login.too_long")
	}
	u, err := s.cfg.Users.UserByLogin(ctx, m.Phone)
	if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
		return false, false, err
	}
	usable := err == nil && u.MemberID == member && !u.Disabled && u.PasswordHash != ""
	hash := s.dummyHash
	if usable {
		hash = u.PasswordHash
	}
	if !s.checkPassword(hash, password) || !usable || password == "" {
		return false, false, nil
	}
	s.forget(ctx, s.loginFail, key)
	return true, u.OwnPassword, nil
}
