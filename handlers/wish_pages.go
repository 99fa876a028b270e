package handlers

import (
	"net/http"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The public wish wall (心愿墙) of a community that switched it on: no
// login, for residents and for party members deciding what to claim. It
// shows the open wishes without personal data — the resident as 张*明, the
// grid or building, never a phone or a picture —, the wishes in hand and
// the ones fulfilled with who fulfilled them (the team, or the member
// masked), and the fulfilment rate (实现率) by month. Off, it answers 404
// as an unknown community does.

// wallMonths is how many months of fulfilment rates the wall shows.
const wallMonths = 6

type wallWish struct {
	Title, Need, Resident, Place string
	Points                       ledger.Points
	Date                         string
	By                           string
	Status                       ledger.WishStatus
}

type wallRate struct {
	Month           string
	Published, Done int
	Rate            string
}

func (s *server) wishWallPage(c echo.Context) error {
	ctx := c.Request().Context()
	d := struct {
		pageData
		Found                bool
		Community            string
		Open, InHand, Done   []wallWish
		Rates                []wallRate
		ClaimDays, MaxShown  int
		OpenCount, DoneCount int
	}{pageData: s.pageData(c), ClaimDays: s.wishClaimDays(), MaxShown: wallConfirmedShown}
	render := func(status int) error { return s.render(c, status, "wishes_wall.html", d) }
	id, err := uuid.Parse(c.Param("unit"))
	if err != nil || len(c.Param("unit")) != 36 {
		return render(http.StatusNotFound)
	}
	unit, err := s.cfg.Directory.Unit(ctx, id)
	if ledger.ErrorCode(err) == ledger.ENOTFOUND || (err == nil && unit.Kind != ledger.UnitCommunity) {
		return render(http.StatusNotFound)
	} else if err != nil {
		return err
	}
	walls, err := s.cfg.Wishes.WishWalls(ctx)
	if err != nil {
		return err
	}
	if !walls[unit.ID].On {
		return render(http.StatusNotFound)
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	wishes, err := s.cfg.Wishes.ListWishes(ctx, ledger.WishFilter{Scope: ledger.Scope{All: true}, Community: unit.ID})
	if err != nil {
		return err
	}
	v := s.wishViewer(ctx, &wishCaller{units: units})
	loc := s.cfg.Location
	day := func(t time.Time) string { return t.In(loc).Format("2006-01-02") }
	for _, w := range wishes {
		if !onWall(w) {
			continue
		}
		view := v.view(w, wallAccess)
		ww := wallWish{Title: w.Title, Need: w.Need, Resident: view.Resident, Place: view.Place, Points: w.Points, Status: w.Status}
		if view.Claim != nil {
			ww.By = view.Claim.ClaimedBy
		}
		switch w.Status {
		case ledger.WishPublished:
			ww.Date = day(w.PublishedAt())
			d.Open = append(d.Open, ww)
		case ledger.WishClaimed, ledger.WishFulfilled:
			ww.Date = day(w.Claim.At)
			d.InHand = append(d.InHand, ww)
		case ledger.WishConfirmed:
			d.DoneCount++
			ww.Date = day(w.Confirmation.At)
			if len(d.Done) < wallConfirmedShown {
				d.Done = append(d.Done, ww)
			}
		}
	}
	d.OpenCount = len(d.Open)
	now := ledger.MonthOf(s.cfg.Now(), loc)
	for i := range wallMonths {
		m := now.AddMonths(-i)
		f := ledger.CountWishes(wishes, m, loc)
		d.Rates = append(d.Rates, wallRate{Month: m.String(), Published: f.Published, Done: f.Done, Rate: pct(f)})
	}
	d.Found, d.Community = true, unit.Name
	return render(http.StatusOK)
}
