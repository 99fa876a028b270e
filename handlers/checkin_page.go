package handlers

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

// checkinPageData is the data of the landing page of a scanned event code.
type checkinPageData struct {
	appPageData
	Token, Seen, Ticket string
}

// checkinPage is where an event's QR code lands (/c/{token}): WeChat's
// scanner or a phone camera opens it. A volunteer sees the page check them
// in or out. Someone not logged in first logs in; so that the 30-second
// code does not expire meanwhile, a valid code earns a ticket that keeps it
// good for ten minutes.
func (s *server) checkinPage(c echo.Context) error {
	token := tokenOf(c.Param("token"))
	u, ok := currentUser(c)
	if !ok {
		ctx := c.Request().Context()
		now := s.cfg.Now()
		if _, err := s.codeEvent(ctx, token, now); err != nil {
			return err
		}
		seen := now.Unix()
		nonce := rand.Text()
		ticket, err := s.ticket(ctx, token, seen, nonce)
		if err != nil {
			return err
		}
		c.SetCookie(&http.Cookie{Name: ticketCookie, Value: nonce, Path: "/", MaxAge: int(ticketLife / time.Second),
			HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
		back := &url.URL{Path: "/c/" + token, RawQuery: url.Values{
			"seen": {strconv.FormatInt(seen, 10)}, "ticket": {ticket}, "lang": {c.QueryParam("lang")},
		}.Encode()}
		return c.Redirect(http.StatusFound, loginURL(back))
	}
	if u.Role != ledger.RoleVolunteer {
		return ledger.Errorf(ledger.EFORBIDDEN, "checkin.volunteers_only")
	}
	d := checkinPageData{appPageData: s.appPageData(c, "home"), Token: token, Seen: c.QueryParam("seen"), Ticket: c.QueryParam("ticket")}
	d.Messages = s.cat.WithPrefix(d.Lang, "js.")
	return s.render(c, http.StatusOK, "checkin.html", d)
}
