package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"aixin/config"
	"aixin/handlers"
	"aixin/ledger"
)

// shutdownTimeout bounds how long SIGTERM waits for requests in flight.
const shutdownTimeout = 10 * time.Second

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c options
	fs := newFlags("serve", getenv, stderr, &c)
	env := &config.Env{Getenv: getenv}
	c.Serve(fs, env)
	if env.Err != nil {
		return env.Err
	}
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return err
	}
	startPprof(getenv, stderr)
	logOut := newLogWriter(stderr)
	defer logOut.Close()
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	if c.LogFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(logOut, nil))
	}

	// A data file keeps the zone it was made with; --tz only chooses it for a
	// new file, or checks it when given.
	var loc *time.Location
	if c.TimeZoneGiven {
		loc = c.Location
	}
	if c.Demo {
		// Before the server opens the folder: the demo writes its month on a clock of its own.
		if err := makeDemo(ctx, c, loc, false, stdout); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	rules := ledger.DefaultEventRules
	rules.RepeatWindow = c.CheckinRepeat
	awardRules := ledger.AwardRules{ApprovalPoints: c.AwardApprovalPoints}
	now, err := serverClock(getenv, logger)
	if err != nil {
		return err
	}
	eng, err := openEngine(ctx, c, engineOptions{loc: loc, rules: &rules, awardRules: &awardRules, now: now,
		wishClaimLife: time.Duration(c.WishClaimDays) * 24 * time.Hour})
	if err != nil {
		return err
	}
	st := eng.engine
	defer st.Close()
	if err := ensureAdmin(ctx, st, c, stdout); err != nil {
		return err
	}
	e, err := handlers.New(handlers.Config{
		Journal:                st,
		Users:                  st,
		Directory:              st,
		Events:                 st,
		Shops:                  st,
		Reports:                st,
		Records:                st,
		Awards:                 st,
		AwardApprovalPoints:    c.AwardApprovalPoints,
		Wishes:                 st,
		WishClaimDays:          c.WishClaimDays,
		Rules:                  st.Rules(),
		Secret:                 st.Secret,
		Ready:                  eng.ready,
		StoreStats:             eng.stats,
		DataDir:                eng.dataDir,
		MinFreeBytes:           c.MinFreeMB << 20,
		Location:               st.Location(),
		Logger:                 logger,
		CookieSecure:           c.CookieSecure,
		Version:                version,
		Engine:                 eng.name,
		LoginsPerMinute:        c.LoginsPerMinute,
		ActionsPerMinute:       c.ActionsPerMinute,
		PublicPerMinute:        c.PublicPerMinute,
		TrustedProxies:         c.TrustedProxies,
		BackupMBPerSecond:      c.BackupMBPerSecond,
		PublicURL:              c.PublicURL,
		Expiry:                 st,
		Now:                    now,
		Households:             st,
		HouseholdOpeningPoints: c.HouseholdOpeningPoints,
		Limits:                 eng.limits,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go sweepSessions(ctx, st, logger)
	go expireVouchers(ctx, st, logger)
	go closeOverdueAttendances(ctx, st, logger)
	go postDueAwards(ctx, st, logger)
	go expirePoints(ctx, st, logger)
	go lapseWishClaims(ctx, st, logger)
	if eng.sweepLimits != nil {
		go sweepLimits(ctx, eng.sweepLimits, now, logger)
	}
	fmt.Fprintf(stdout, "aixin %s listening on http://%s (%s)\n", version, ln.Addr(), eng.where)
	logger.Info("serving", "addr", ln.Addr().String(), "store", eng.where, "tz", st.Location().String())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("requests still running after the drain timeout are cut off", "err", err)
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	logger.Info("stopped cleanly")
	return nil
}

// ensureAdmin creates the first administrator on an empty store, with the
// password from AIXIN_ADMIN_PASSWORD or a one-time password printed once.
func ensureAdmin(ctx context.Context, st ledger.Users, c options, stdout io.Writer) error {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pass, generated := c.AdminPassword, false
	if pass == "" {
		pass, generated = oneTimePassword(), true
	}
	hash, err := handlers.HashPassword(pass)
	if err != nil {
		return err
	}
	_, err = st.CreateUser(ctx, ledger.User{Login: c.AdminLogin, Name: "管理员", Role: ledger.RoleAdmin, PasswordHash: hash})
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stdout, "\nFirst administrator created / 已创建首个管理员:\n  login / 账号:    %s\n  password / 密码: %s\n  This password is shown only once. 此密码只显示一次，请妥善保管。\n\n", c.AdminLogin, pass)
	} else {
		fmt.Fprintf(stdout, "First administrator %q created with the password from AIXIN_ADMIN_PASSWORD.\n", c.AdminLogin)
	}
	return nil
}

// oneTimePassword returns 15 random characters from an alphabet without
// look-alikes, in groups of five.
func oneTimePassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	var b strings.Builder
	for i, r := range []byte(rand.Text()[:15]) {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[int(r)%len(alphabet)])
	}
	return b.String()
}

// expireVouchers releases the points and stock of expired vouchers at start
// and every minute (redemption checks expiry by itself too).
func expireVouchers(ctx context.Context, st engine, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		res, err := st.ExpireVouchers(ctx)
		logSweep(ctx, logger, "voucher expiry", "voucher", res, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// closeOverdueAttendances closes, at start and every minute, the
// attendances left open at events that are over, cancelled or finalised, as
// 未签退 for their organisers (a scan elsewhere closes them by itself too).
func closeOverdueAttendances(ctx context.Context, st engine, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		res, err := st.CloseOverdueAttendances(ctx)
		logSweep(ctx, logger, "attendances left open", "attendance", res, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logSweep logs what one run of a sweep did: each item it had to skip (it
// is tried again on the next run), and how many it handled.
func logSweep(ctx context.Context, logger *slog.Logger, sweep, item string, res ledger.SweepResult, err error) {
	if res.Skipped {
		logger.Debug(sweep + ": another app server is running it")
	}
	for _, f := range res.Failed {
		logger.Error(sweep+": skipped", item, f.ID.String(), "err", f.Err)
	}
	if err != nil && ctx.Err() == nil {
		logger.Warn(sweep, "err", err)
	}
	if res.Done > 0 || len(res.Failed) > 0 {
		logger.Info(sweep, "done", res.Done, "skipped", len(res.Failed))
	}
}

// sweepSessions deletes expired sessions at start and every hour.
func sweepSessions(ctx context.Context, st engine, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := st.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			logger.Warn("session sweep", "err", err)
		} else if n > 0 {
			logger.Info("expired sessions deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepLimits deletes, at start and every minute, the rate limit windows
// that have ended from the database that app servers share (a hit finds
// an ended window by itself: the sweep only keeps the table small).
func sweepLimits(ctx context.Context, sweep func(context.Context, time.Time) (ledger.SweepResult, error), now func() time.Time, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if res, err := sweep(ctx, now()); err != nil && ctx.Err() == nil {
			logger.Warn("rate limit sweep", "err", err)
		} else if res.Done > 0 {
			logger.Debug("ended rate limit windows deleted", "count", res.Done)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// postDueAwards posts, at start and every minute, the behaviour awards
// whose notice period ended without an objection.
func postDueAwards(ctx context.Context, st engine, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		res, err := st.PostDueAwards(ctx)
		logSweep(ctx, logger, "award notice", "award", res, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lapseWishClaims returns, at start and every minute, the claimed wishes
// not fulfilled within the claim days to the wish wall (fulfilling checks
// the due time by itself too).
func lapseWishClaims(ctx context.Context, st engine, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		res, err := st.LapseWishClaims(ctx)
		logSweep(ctx, logger, "wish claims", "wish", res, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
