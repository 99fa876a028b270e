package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// The households' pages: the organiser's list and a household's page
// (/admin/households, /admin/households/{id}) and the volunteer's own
// household on the phone (/m/household). Grid workers manage households
// through the API, which takes them (their pages come with their own
// navigation). As on the
// other pages, the server renders a shell in the caller's language and the
// page's script loads the data from /api/v1; a household the caller may not
// see gets the same 404 page as one that does not exist.

// householdPageRoutes registers the households' pages.
func (s *server) householdPageRoutes(e *echo.Echo) {
	staff := []echo.MiddlewareFunc{s.loadSession, pageFor(organiserRoles...)}
	volunteer := []echo.MiddlewareFunc{s.loadSession, pageFor(volunteerRoles...)}
	e.GET("/admin/households", s.appPage("admin_households.html", "households"), staff...)
	e.GET("/admin/households/:id", s.householdPage, staff...)
	e.GET("/m/household", s.appPage("m_household.html", "home"), volunteer...)
}

// householdPage renders one household's page for staff whose scope holds it.
func (s *server) householdPage(c echo.Context) error {
	h, _, err := s.householdInPath(c)
	if err != nil {
		return err
	}
	d := s.appPageData(c, "households")
	d.ID = h.ID.String()
	return s.render(c, http.StatusOK, "admin_household.html", d)
}
