package handlers

import (
	"net/http"
	"time"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

// The organiser's event pages: the list with the form to create an event
// (/admin/events), one event with its attendance, the organiser's scanner,
// adding by name and back-filling (/admin/events/{id}), and the full-screen
// display of the rotating check-in QR for a projector or a phone held up at
// the door (/admin/events/{id}/display). As on the other organiser pages, the
// server renders a shell in the caller's language and the page's script
// loads and changes the data through /api/v1.

// eventPageRoutes registers the event pages for organisers and administrators.
// An event outside the caller's scope gets the same 404 page as one that does
// not exist, as the API answers.
func (s *server) eventPageRoutes(e *echo.Echo) {
	staff := []echo.MiddlewareFunc{s.loadSession, pageFor(organiserRoles...)}
	e.GET("/admin/events", s.appPage("admin_events.html", "events"), staff...)
	e.GET("/admin/events/:id", s.eventPage("admin_event.html"), staff...)
	e.GET("/admin/events/:id/display", s.eventPage("admin_event_display.html"), staff...)
}

// eventPageData is the data of the pages of one event: the page renders the
// title, place and time itself, so that a projector shows them at once.
type eventPageData struct {
	appPageData
	Event ledger.Event
	// When is the event's time in the deployment's zone, as the page's language writes it.
	When string
}

// eventPage renders template name for an event in the caller's scope.
func (s *server) eventPage(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ev, err := s.eventInScope(c)
		if err != nil {
			return err
		}
		d := eventPageData{appPageData: s.appPageData(c, "events"), Event: ev}
		d.ID = ev.ID.String()
		d.When = eventWindow(d.Lang, ev.StartsAt.In(s.cfg.Location), ev.EndsAt.In(s.cfg.Location))
		return s.render(c, http.StatusOK, name, d)
	}
}

// eventWindow writes an event's time as people read it: the day once, then
// the hours; both days when it runs past midnight.
func eventWindow(lang string, start, end time.Time) string {
	day, clock := "2006年1月2日", "15:04"
	if lang == langEN {
		day = "2 Jan 2006"
	}
	sameDay := start.Year() == end.Year() && start.YearDay() == end.YearDay()
	if sameDay {
		return start.Format(day) + " " + start.Format(clock) + "–" + end.Format(clock)
	}
	return start.Format(day) + " " + start.Format(clock) + " – " + end.Format(day) + " " + end.Format(clock)
}
