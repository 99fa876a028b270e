package handlers

import (
	"net/http"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

// The pages of the love supermarket: the clerk's counter (/kiosk), the
// volunteer's catalogue and vouchers (/m/shop, /m/vouchers, the voucher's QR
// full screen at /m/vouchers/{id}), and the organiser's shops, catalogue and
// stock (/admin/shops, /admin/shops/{id}) with the printable slip of a voucher
// issued for someone without a phone (/admin/vouchers/{id}/slip). As on the
// other pages, the server renders a shell in the caller's language and the
// page's script loads and changes the data through /api/v1; a shop or voucher
// the caller may not see gets the same 404 page as one that does not exist,
// as the API answers.

// Roles that see the counter.
var clerkRoles = []ledger.Role{ledger.RoleClerk}

// shopPageRoutes registers the shop, voucher and kiosk pages.
func (s *server) shopPageRoutes(e *echo.Echo) {
	staff := []echo.MiddlewareFunc{s.loadSession, pageFor(organiserRoles...)}
	volunteer := []echo.MiddlewareFunc{s.loadSession, pageFor(volunteerRoles...)}
	clerk := []echo.MiddlewareFunc{s.loadSession, pageFor(clerkRoles...)}

	e.GET("/kiosk", s.appPage("kiosk.html", "kiosk"), clerk...)

	e.GET("/m/shop", s.appPage("m_shop.html", "shop"), volunteer...)
	e.GET("/m/vouchers", s.appPage("m_vouchers.html", "vouchers"), volunteer...)
	e.GET("/m/vouchers/:id", s.voucherPage("m_voucher.html", "vouchers"), volunteer...)

	e.GET("/admin/shops", s.appPage("admin_shops.html", "shops"), staff...)
	e.GET("/admin/shops/:id", s.shopPage, staff...)
	e.GET("/admin/vouchers/:id/slip", s.voucherPage("admin_voucher_slip.html", "shops"), staff...)
}

// shopPage renders one shop's catalogue and stock page, for staff whose
// scope holds the shop.
func (s *server) shopPage(c echo.Context) error {
	id, err := paramID(c, "id", "shop.not_found")
	if err != nil {
		return err
	}
	sh, _, err := s.shopFor(c, id)
	if err != nil {
		return err
	}
	d := shopPageData{appPageData: s.appPageData(c, "shops"), Name: sh.Name}
	d.ID = sh.ID.String()
	return s.render(c, http.StatusOK, "admin_shop.html", d)
}

// shopPageData is the data of a page about one shop or one voucher.
type shopPageData struct {
	appPageData
	// Name is the shop's name, shown before the script has loaded.
	Name string
	// Paper is the printable slip's paper: a4, a5 or 58mm.
	Paper string
}

// voucherPage renders template name for a voucher the caller may see: the
// member's own, or one of a member in an organiser's scope.
func (s *server) voucherPage(name, nav string) echo.HandlerFunc {
	return func(c echo.Context) error {
		v, err := s.voucherFor(c)
		if err != nil {
			return err
		}
		d := shopPageData{appPageData: s.appPageData(c, nav), Paper: paperOf(c.QueryParam("paper"))}
		d.ID = v.ID.String()
		return s.render(c, http.StatusOK, name, d)
	}
}

// paperOf is the slip's paper the query asks for; A4 unless it names another we lay out.
func paperOf(q string) string {
	switch q {
	case "a5", "A5":
		return "a5"
	case "58mm", "58":
		return "58mm"
	}
	return "a4"
}
