// Package handlers is aixin's HTTP layer: the Echo router with every route,
// grouped by audience, the one error handler that turns ledger errors into
// JSON or an error page, sessions and roles, rate limits, logs and metrics,
// and the server-rendered pages.
//
// A handler parses and validates its input, makes one store call and renders
// the answer. It returns errors and never writes an error response itself.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"aixin/ledger"
	"aixin/static"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/labstack/gommon/bytes"
)

// Config is everything the HTTP layer needs. Journal and Users are
// required; the rest have defaults.
type Config struct {
	// Journal is the points ledger.
	Journal ledger.Journal
	// Users keeps accounts and sessions.
	Users ledger.Users
	// Directory keeps the unit tree, teams and members.
	Directory ledger.Directory
	// Events keeps events and attendances.
	Events ledger.Events
	// Shops keeps shops, catalogues, stock and vouchers.
	Shops ledger.Shops
	// Reports reads the monthly figures for exports.
	Reports ledger.Reports
	// Records reads members' service and keeps certificates.
	Records ledger.Records
	// Awards keeps the behaviour lists and the awards made from them
	// (文明行为银行); nil leaves their routes out.
	Awards ledger.Awards
	// Rules are the rules of hours into points. Default ledger.DefaultEventRules.
	Rules ledger.EventRules
	// Secret returns a named server secret (the key that signs member cards).
	Secret func(ctx context.Context, name string) ([]byte, error)
	// Ready reports whether the store can take writes now; nil means it always can.
	Ready func(ctx context.Context) error
	// StoreStats returns the store's counters for /metrics; nil leaves them out.
	StoreStats func() StoreStats
	// DataDir is the folder whose free space /readyz checks; empty skips the check.
	DataDir string
	// MinFreeBytes is the free space below which /readyz answers 503 (config.Default: 64 MiB).
	MinFreeBytes uint64
	// Location is the deployment's time zone, used to render times. Default Asia/Shanghai.
	Location *time.Location
	// Logger gets one line per request and every server error. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// CookieSecure sets the Secure attribute on cookies; set it behind TLS.
	CookieSecure bool
	// Version is reported by /metrics as aixin_build_info, with Engine
	// (the storage: "bbolt" or "postgres").
	Version string
	Engine  string
	// LoginsPerMinute caps login attempts per client address; at least 1
	// (this and the settings below: config.Default has the deployment's defaults).
	LoginsPerMinute int
	// ActionsPerMinute caps each user's check-ins and each user's voucher
	// creations (each counted on its own); at least 1.
	ActionsPerMinute int
	// PublicPerMinute caps the public pages (certificate checks, points
	// notices) per client address; at least 1.
	PublicPerMinute int
	// Limits counts the rate limits and login lockouts. Default: in this
	// process's memory, right for a server on its own (the bbolt file);
	// app servers that share a PostgreSQL database pass its counter, so that
	// a limit holds whichever server a request reaches.
	Limits ledger.Limits
	// TrustedProxies are the addresses (CIDRs or single IPs) of reverse
	// proxies whose X-Forwarded-For names the client. Empty: the client is
	// the connection's address, and the header is ignored (it is easy to forge).
	TrustedProxies []string
	// BackupMBPerSecond caps how fast GET /api/v1/admin/backup streams the
	// data file, so that a hot backup taken while people scan leaves them
	// the CPU; 0: no cap.
	BackupMBPerSecond int
	// BodyLimit caps request bodies, in Echo's notation ("1M", "512K"). Default "1M".
	BodyLimit string
	// PublicURL is the address phones reach this server at
	// ("https://aixin.example.org"), which check-in and certificate QR
	// codes carry. Empty: the address the request came to, which is right
	// behind a proxy that passes Host and X-Forwarded-Proto, and wrong for
	// a browser opened at 127.0.0.1.
	PublicURL string

	// Expiry keeps the streets' points expiry policies and applies them (required).
	Expiry ledger.Expiries

	// Households keeps households (一家亲), who belongs to them and their
	// vouchers; the behaviour bank reads it too. Required.
	Households ledger.Households
	// HouseholdOpeningPoints are the points a new household starts with
	// (遵义: 60); 0, the default, gives none.
	HouseholdOpeningPoints ledger.Points

	// AwardApprovalPoints is where a second pair of eyes starts (四眼): behaviour
	// awards of this many points or more wait for approval, and wishes of as
	// many are confirmed by someone other than who set their points (as the
	// store was told, for the pages to offer only what the server accepts).
	// 0: none waits.
	AwardApprovalPoints ledger.Points
	// Wishes keeps wishes (微心愿) and the wish walls' switches.
	Wishes ledger.Wishes
	// WishClaimDays is how many days a claim of a wish lasts, as the store
	// was told, for the pages to say; at least 1.
	WishClaimDays int
}

// StoreStats are the store's counters, exposed by /metrics. Its fields match
// store.Stats, so a store.Stats converts to it directly.
type StoreStats struct {
	// Appends counts journal entries appended; Commits and CommitErrors
	// count write transactions that committed and that failed.
	Appends, Commits, CommitErrors uint64
	// BatchSizeBuckets are the upper bounds of the commit batch size
	// histogram; BatchSizeCounts[i] is the number of commits with at most
	// BatchSizeBuckets[i] requests (cumulative). The last count is taken as
	// the histogram's total, so the last bound must cover every batch.
	BatchSizeBuckets []float64
	BatchSizeCounts  []uint64
	// BatchSizeSum is the number of requests in all commits.
	BatchSizeSum uint64
	// QueueLen is the number of write requests waiting now.
	QueueLen int
	// SweepFailures counts, per background sweep, the items it had to skip.
	SweepFailures map[string]uint64
	// SweepsSkipped counts, per background sweep, the runs left to another
	// app server that was running it.
	SweepsSkipped map[string]uint64
}

// Defaults of Config.
const (
	DefaultBodyLimit = "1M"
)

// server holds what the handlers share. It is built by New; there is no
// package state.
type server struct {
	cfg       Config
	cat       *catalogue
	pages     map[string]*template.Template // by file name: parsePages
	assets    fs.FS
	openAPI   []byte
	metrics   *metrics
	limits    ledger.Limits
	ipLimit   ledger.Limit // login attempts per client IP
	loginFail ledger.Limit // failed logins per login name
	codeGuess ledger.Limit // wrong voucher short codes per kiosk
	checkins  ledger.Limit // check-ins per user
	vouchers  ledger.Limit // voucher creations per user
	public    ledger.Limit // public pages per client IP

	dashboards sync.Map // scope|month|full -> *cachedDashboard
	// checkinKeys holds the check-in secret of each event scanned, by id:
	// an event's secret is made with it and never changes, so a scan need
	// not read the event to check its code.
	checkinKeys sync.Map
	// checkinCodes holds tokens whose MAC was checked (token -> *checkedCode):
	// every volunteer at an event scans the same code, and only its step
	// needs checking again. Cleared when it holds maxCheckedCodes.
	checkinCodes sync.Map
	checkedCodes atomic.Int64
	ticketKey    atomic.Pointer[[]byte] // the "checkin-ticket" secret, once read
	// dummyHash is verified when a login is unknown, so that an unknown
	// login costs as much time as a wrong password.
	dummyHash string
	// hashSlots bounds the concurrent argon2 computations (19 MiB each).
	hashSlots chan struct{}
	// importSlot lets one roster upload be read at a time.
	importSlot chan struct{}

	// The last readiness probe of the store, reused for a second.
	readyMu  sync.Mutex
	readyAt  time.Time
	readyErr error
}

// New returns the Echo instance with every route and middleware of aixin.
func New(cfg Config) (*echo.Echo, error) {
	if cfg.Journal == nil || cfg.Users == nil || cfg.Directory == nil || cfg.Events == nil || cfg.Shops == nil || cfg.Secret == nil {
		return nil, errors.New("handlers: Config needs Journal, Users, Directory, Events, Shops and Secret")
	}
	if cfg.Expiry == nil {
		return nil, errors.New("handlers: Config needs Expiry")
	}
	if cfg.Households == nil {
		return nil, errors.New("handlers: Config needs Households")
	}
	if cfg.Wishes == nil {
		return nil, errors.New("handlers: Config needs Wishes")
	}
	if cfg.Rules.CodeStep == 0 {
		cfg.Rules = ledger.DefaultEventRules
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation(ledger.DefaultTimeZone)
		if err != nil {
			return nil, fmt.Errorf("handlers: %w", err)
		}
		cfg.Location = loc
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.Limits == nil {
		cfg.Limits = newMemoryLimits()
	}
	switch {
	case cfg.LoginsPerMinute < 1 || cfg.ActionsPerMinute < 1 || cfg.PublicPerMinute < 1:
		return nil, fmt.Errorf("handlers: LoginsPerMinute, ActionsPerMinute and PublicPerMinute must be at least 1 (config.Default has them)")
	case cfg.WishClaimDays < 1:
		return nil, fmt.Errorf("handlers: WishClaimDays must be at least 1")
	case cfg.AwardApprovalPoints < 0 || cfg.BackupMBPerSecond < 0:
		return nil, fmt.Errorf("handlers: AwardApprovalPoints and BackupMBPerSecond must be 0 (none) or more")
	}
	if _, err := bytes.Parse(cfg.BodyLimit); err != nil {
		return nil, fmt.Errorf("handlers: body limit %q: %w", cfg.BodyLimit, err)
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("handlers: public URL %q: want http:// or https:// and a host, nothing after it (e.g. https://aixin.example.org)", cfg.PublicURL)
		}
		cfg.PublicURL = u.Scheme + "://" + u.Host
	}

	s := &server{
		cfg:       cfg,
		limits:    cfg.Limits,
		ipLimit:   ledger.Limit{Name: "login_ip", Max: cfg.LoginsPerMinute, Period: time.Minute},
		loginFail: ledger.Limit{Name: "login_fail", Max: loginFailuresPerLogin, Period: 15 * time.Minute},
		codeGuess: ledger.Limit{Name: "voucher_code", Max: codeGuessesPerKiosk, Period: time.Minute},
		checkins:  ledger.Limit{Name: "checkin", Max: cfg.ActionsPerMinute, Period: time.Minute},
		vouchers:  ledger.Limit{Name: "voucher", Max: cfg.ActionsPerMinute, Period: time.Minute},
		public:    ledger.Limit{Name: "public", Max: cfg.PublicPerMinute, Period: time.Minute},
		hashSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
	}
	s.importSlot = make(chan struct{}, 1)
	var err error
	if s.cat, err = loadCatalogue(static.FS); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(static.FS); err != nil {
		return nil, fmt.Errorf("handlers: templates: %w", err)
	}
	if s.assets, err = fs.Sub(static.FS, "assets"); err != nil {
		return nil, fmt.Errorf("handlers: assets: %w", err)
	}
	if s.openAPI, err = fs.ReadFile(static.FS, "openapi.yaml"); err != nil {
		return nil, fmt.Errorf("handlers: %w", err)
	}
	if s.dummyHash, err = HashPassword("aixin: no such login"); err != nil {
		return nil, err
	}
	if s.metrics, err = newMetrics(cfg.Version, cfg.Engine, cfg.StoreStats); err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	if e.IPExtractor, err = ipExtractor(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	e.HTTPErrorHandler = s.handleError
	s.routes(e)
	return e, nil
}

// routes registers every route, grouped by audience. Middleware runs in the
// order listed: the request id first, so that every log line has it; then the
// log and metrics, which also hand errors to the error handler; then panic
// recovery, so a panic is logged and counted like any other 500.
func (s *server) routes(e *echo.Echo) {
	e.Use(
		dropBadRequestID,
		middleware.RequestID(),
		s.observe,
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			LogErrorFunc:        s.logPanic,
			DisableErrorHandler: true,
		}),
		middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			ReferrerPolicy:        "same-origin",
			ContentSecurityPolicy: contentSecurityPolicy,
		}),
		refuseCrossOrigin(),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
			Limit: s.cfg.BodyLimit,
			// A roster upload, and a wish's fulfilment with its photos, have
			// larger limits of their own on their routes.
			Skipper: func(c echo.Context) bool { return c.Path() == "/api/v1/members/import" || c.Path() == wishFulfilRoute },
		}),
	)

	// Operations: no session, no language.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler)

	// Embedded scripts and styles.
	e.GET("/static/*", s.asset)

	// Who may call a route. Session loading is attached per route, not to
	// the group: a group middleware makes Echo answer 404 where 405 is right.
	session := s.loadSession
	loggedIn := []echo.MiddlewareFunc{session, requireLogin}
	admin := []echo.MiddlewareFunc{session, requireRole(ledger.RoleAdmin)}

	// Pages.
	e.GET("/", s.startPage, session)
	s.pageRoutes(e)
	s.eventPageRoutes(e)
	s.shopPageRoutes(e)
	if s.cfg.Awards != nil {
		s.awardRoutes(e)
	}
	s.householdPageRoutes(e)
	e.GET("/c/:token", s.checkinPage, session)

	// JSON API.
	api := e.Group("/api/v1")
	api.GET("/openapi.yaml", s.openAPIDocument)
	api.POST("/login", s.login)
	api.POST("/logout", s.logout, loggedIn...)
	api.GET("/me", s.me, loggedIn...)

	api.POST("/me/password", s.changeMyPassword, loggedIn...)

	// Organisers (and administrators) over their subtree.
	staff := []echo.MiddlewareFunc{session, requireRole(ledger.RoleAdmin, ledger.RoleOrganizer)}
	api.GET("/units", s.listUnits, staff...)
	api.POST("/units", s.createUnit, staff...)
	api.PATCH("/units/:id", s.updateUnit, staff...)
	api.GET("/teams", s.listTeams, staff...)
	api.POST("/teams", s.createTeam, staff...)
	api.GET("/categories", s.categories, loggedIn...)
	api.GET("/members", s.listMembers, staff...)
	api.POST("/members", s.createMember, staff...)
	api.POST("/members/import", s.importMembers, append(staff, middleware.BodyLimit(importBodyLimit))...)
	api.GET("/members/import/template.csv", s.importTemplate, staff...)
	api.GET("/members/cards", s.memberCards, staff...)
	api.PATCH("/members/:id", s.updateMember, staff...)
	api.POST("/members/:id/password", s.setMemberPassword, staff...)
	api.GET("/users", s.listUsers, staff...)
	api.POST("/users", s.createUser, staff...)
	api.PATCH("/users/:id", s.updateUser, staff...)

	// A member's own records: the member, or staff over them.
	member := []echo.MiddlewareFunc{session, requireRole(ledger.RoleAdmin, ledger.RoleOrganizer, ledger.RoleVolunteer)}
	api.GET("/members/:id", s.getMember, member...)
	api.GET("/members/:id/balance", s.memberBalance, member...)
	api.GET("/members/:id/entries", s.memberEntries, member...)
	api.GET("/members/:id/card.png", s.memberCard, member...)
	api.GET("/members/:id/attendances", s.memberAttendances, member...)

	// Events and attendance.
	api.POST("/events", s.createEvent, staff...)
	api.GET("/events", s.listEvents, staff...)
	api.GET("/events/:id", s.getEvent, staff...)
	api.PATCH("/events/:id", s.updateEvent, staff...)
	api.GET("/events/:id/changes", s.eventChanges, staff...)
	api.POST("/events/:id/status", s.setEventStatus, staff...)
	api.GET("/events/:id/code", s.eventCode, staff...)
	api.GET("/events/:id/code.png", s.eventCodePNG, staff...)
	api.GET("/events/:id/attendance", s.eventAttendance, staff...)
	api.POST("/events/:id/attendance", s.recordAttendance, staff...)
	api.POST("/events/:id/finalize", s.finalizeEvent, staff...)
	api.POST("/events/:id/checkout-all", s.checkoutAll, staff...)
	api.POST("/attendances/:id/close", s.closeAttendance, staff...)
	api.POST("/attendances/:id/review", s.reviewAttendance, staff...)
	api.POST("/checkins", s.checkin, session, requireRole(ledger.RoleVolunteer))

	// Shops, catalogue, vouchers and the counter.
	anyone := []echo.MiddlewareFunc{session, requireRole(ledger.RoleAdmin, ledger.RoleOrganizer, ledger.RoleClerk, ledger.RoleVolunteer)}
	clerk := []echo.MiddlewareFunc{session, requireRole(ledger.RoleClerk), requireShop}
	api.POST("/shops", s.createShop, staff...)
	api.GET("/shops", s.listShops, anyone...)
	api.POST("/shops/:id/items", s.createItem, staff...)
	api.GET("/shops/:id/items", s.listItems, anyone...)
	api.PATCH("/items/:id", s.updateItem, staff...)
	api.POST("/items/:id/stock", s.moveStock, staff...)
	api.POST("/items/:id/picture", s.setItemPicture, staff...)
	api.GET("/items/:id/picture", s.itemPicture, anyone...)
	api.POST("/vouchers", s.issueVoucher, member...)
	api.GET("/vouchers", s.listVouchers, member...)
	api.GET("/vouchers/:id", s.getVoucher, member...)
	api.GET("/vouchers/:id/qr.png", s.voucherQR, member...)
	api.POST("/vouchers/:id/cancel", s.cancelVoucher, member...)
	api.POST("/vouchers/:id/reverse", s.reverseRedemption, staff...)
	api.GET("/shops/:id/redemptions", s.shopRedemptions, staff...)
	api.GET("/shops/:id/stock-moves", s.shopStockMoves, staff...)
	api.GET("/redemptions/preview", s.previewRedemption, clerk...)
	api.POST("/redemptions", s.redeem, clerk...)
	api.GET("/redemptions/today", s.redemptionsToday, clerk...)

	// Households (一家亲) and the shops' household setting.
	s.householdRoutes(api)

	// Exports.
	api.GET("/exports/monthly", s.exportMonthly, staff...)
	api.GET("/dashboard", s.getDashboard, staff...)
	api.GET("/dashboard/points.svg", s.pointsChart, staff...)
	api.GET("/dashboard/categories.svg", s.categoriesChart, staff...)
	api.GET("/exports/service-records", s.serviceRecords, staff...)
	api.POST("/certificates", s.issueCertificate, staff...)
	api.GET("/certificates/:serial", s.getCertificate, staff...)
	api.GET("/certificates/:serial/qr.png", s.certificateQR, staff...)

	// Administrators.
	api.GET("/ledger/entries", s.ledgerEntries, admin...)
	api.GET("/ledger/verify", s.ledgerVerify, admin...)
	api.GET("/admin/backup", s.backup, admin...)

	// Points that expire: a street's policy is set with PATCH /units/{id}.
	api.GET("/admin/expiry", s.expiryPreview, staff...)
	// Wishes (微心愿): their API, pages and public wall.
	s.wishRoutes(e, api)
}

// contentSecurityPolicy allows nothing from another origin, no inline
// script or style, and no framing.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; " +
	"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
