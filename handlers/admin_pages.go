package handlers

import (
	"net/http"
	"net/url"
	"slices"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The organiser's pages (/admin/…, PC first) and the volunteer's pages
// (/m/…, phone first). Each page is a server-rendered shell in the caller's
// language; its script loads the data from /api/v1 and renders it, so what a
// page shows is what the API lets its caller see. Messages the scripts format
// themselves travel in a <script type="application/json"> block, as on the
// start page: the CSP allows no inline script.

// Roles that see the pages.
var (
	organiserRoles = []ledger.Role{ledger.RoleAdmin, ledger.RoleOrganizer}
	volunteerRoles = []ledger.Role{ledger.RoleVolunteer}
)

// pageRoutes registers the organiser's and the volunteer's pages.
func (s *server) pageRoutes(e *echo.Echo) {
	staff := []echo.MiddlewareFunc{s.loadSession, pageFor(organiserRoles...)}
	volunteer := []echo.MiddlewareFunc{s.loadSession, pageFor(volunteerRoles...)}

	e.GET("/admin", slashRedirect)
	e.GET("/admin/", s.appPage("admin_home.html", "home"), staff...)
	e.GET("/admin/units", s.appPage("admin_units.html", "units"), staff...)
	e.GET("/admin/teams", s.appPage("admin_teams.html", "teams"), staff...)
	e.GET("/admin/members", s.appPage("admin_members.html", "members"), staff...)
	e.GET("/admin/members/cards", s.appPage("admin_member_cards.html", "members"), staff...)
	e.GET("/admin/members/:id", s.memberPage, staff...)
	e.GET("/admin/import", s.appPage("admin_import.html", "import"), staff...)
	e.GET("/admin/staff", s.appPage("admin_staff.html", "staff"), staff...)
	e.GET("/admin/exports", s.appPage("admin_exports.html", "exports"), staff...)
	e.GET("/admin/records", s.appPage("admin_records.html", "exports"), staff...)
	e.GET("/admin/certificates/:serial", s.certificatePage, staff...)
	e.GET("/verify/:serial", s.verifyPage, s.limitPerIP(s.public))
	e.GET("/notice/:unit", s.noticePage, s.limitPerIP(s.public))

	e.GET("/m", slashRedirect)
	e.GET("/m/", s.appPage("m_home.html", "home"), volunteer...)
	e.GET("/m/card", s.appPage("m_card.html", "card"), volunteer...)
}

// pageFor lets users with one of roles see a page. Anyone else who is not
// logged in goes to the start page to log in, and comes back after; a
// logged-in user with another role gets the 403 page.
func pageFor(roles ...ledger.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, ok := currentUser(c)
			if !ok {
				return c.Redirect(http.StatusFound, loginURL(c.Request().URL))
			}
			if !slices.Contains(roles, u.Role) {
				return ledger.Errorf(ledger.EFORBIDDEN, "auth.forbidden")
			}
			return next(c)
		}
	}
}

// loginURL is the start page, told to come back to the page at u after
// login, in the language the page was asked in.
func loginURL(u *url.URL) string {
	q := url.Values{"next": {u.RequestURI()}}
	if l := u.Query().Get("lang"); l != "" {
		if l, ok := matchLang(l); ok {
			q.Set("lang", l)
		}
	}
	return "/?" + q.Encode()
}

// slashRedirect sends /admin to /admin/ (and /m to /m/), keeping the query.
func slashRedirect(c echo.Context) error {
	u := *c.Request().URL
	u.Path += "/"
	return c.Redirect(http.StatusMovedPermanently, u.RequestURI())
}

// appPageData is the data of every organiser and volunteer page.
type appPageData struct {
	pageData
	// Nav names the current entry of the page's navigation.
	Nav string
	// User is who is logged in.
	User ledger.User
	// Phone is the user's login masked as lists show it; for volunteers it
	// is their mobile number.
	Phone string
	// MemberID is the volunteer's own member id, empty for staff.
	MemberID string
	// ID is the object the page shows (a member on the member page).
	ID string
	// Messages are the catalogue entries the scripts format themselves.
	Messages map[string]string
}

func (s *server) appPageData(c echo.Context, nav string) appPageData {
	p := s.pageData(c)
	u, _ := currentUser(c)
	d := appPageData{
		pageData: p,
		Nav:      nav,
		User:     s.userView(u),
		Messages: s.cat.WithPrefix(p.Lang, "js.", "role."),
	}
	if u.Role == ledger.RoleVolunteer {
		d.Phone = ledger.MaskPhone(u.Login)
		if u.MemberID != uuid.Nil {
			d.MemberID = u.MemberID.String()
		}
	}
	return d
}

// appPage renders template name for the logged-in user.
func (s *server) appPage(name, nav string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.render(c, http.StatusOK, name, s.appPageData(c, nav))
	}
}

// certificatePage renders a certificate for printing, for staff whose scope
// holds its member; the script loads it from the API.
func (s *server) certificatePage(c echo.Context) error {
	cert, err := s.certificateInScope(c)
	if err != nil {
		return err
	}
	d := s.appPageData(c, "members")
	d.ID = cert.Serial
	return s.render(c, http.StatusOK, "admin_certificate.html", d)
}

// memberPage renders one member's page, for staff whose scope holds the
// member: anyone else gets the same 404 page as for a member that does not
// exist, as the API answers. The script loads the details from the API.
func (s *server) memberPage(c echo.Context) error {
	m, err := s.memberInScope(c)
	if err != nil {
		return err
	}
	d := s.appPageData(c, "members")
	d.ID = m.ID.String()
	return s.render(c, http.StatusOK, "admin_member.html", d)
}
