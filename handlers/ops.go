package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz says the process is alive; it touches nothing.
func (s *server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readiness is the answer of /readyz: "ok" or why not, for each check.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// readyz says whether the server should get traffic: the store takes writes
// and the data folder has room. A failed check is an answer, not an error:
// it is rendered here with 503 so that the body says which check failed.
func (s *server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	r := readiness{Status: "ok", Checks: map[string]string{"store": "ok", "disk": "ok"}}
	if err := s.storeReady(ctx); err != nil {
		s.cfg.Logger.Warn("readyz: the store does not take writes", "err", err)
		r.Checks["store"] = "not writable"
	}
	if s.cfg.DataDir == "" {
		r.Checks["disk"] = "not checked"
	} else if free, err := freeBytes(s.cfg.DataDir); err != nil {
		s.cfg.Logger.Warn("readyz: free disk", "err", err)
		r.Checks["disk"] = "cannot read free space"
	} else if free < s.cfg.MinFreeBytes {
		r.Checks["disk"] = fmt.Sprintf("%d bytes free, need %d", free, s.cfg.MinFreeBytes)
	}
	status := http.StatusOK
	for _, v := range r.Checks {
		if v != "ok" && v != "not checked" {
			r.Status, status = "unavailable", http.StatusServiceUnavailable
		}
	}
	return c.JSON(status, r)
}

// storeReady runs the store's write probe at most once a second, so that
// probes (anonymous) cannot turn into a stream of synced writes.
func (s *server) storeReady(ctx context.Context) error {
	if s.cfg.Ready == nil {
		return nil
	}
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	if now := time.Now(); now.Sub(s.readyAt) >= time.Second {
		s.readyErr, s.readyAt = s.cfg.Ready(ctx), now
	}
	return s.readyErr
}

// metricsHandler serves the private registry in Prometheus' text format.
func (s *server) metricsHandler(c echo.Context) error {
	s.metrics.handler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// metrics are the server's Prometheus metrics, in a registry of its own so
// that two servers in one process (tests) do not collide.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(version, engine string, stats func() StoreStats) (*metrics, error) {
	reg := prometheus.NewRegistry()
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aixin_build_info",
		Help: "Always 1; the labels say which version runs, on which storage engine.",
	}, []string{"version", "engine"})
	build.WithLabelValues(version, engine).Set(1)
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, build,
	}
	if stats != nil {
		cs = append(cs, newStoreCollector(stats))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("handlers: metrics: %w", err)
		}
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m, nil
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	switch method { // a client's made-up method must not make a new series
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// storeCollector turns a StoreStats snapshot into metrics at each scrape.
type storeCollector struct {
	stats                                    func() StoreStats
	appends, commits, commitErrors, batch, q *prometheus.Desc
	sweepFailures, sweepsSkipped             *prometheus.Desc
}

func newStoreCollector(stats func() StoreStats) *storeCollector {
	return &storeCollector{
		stats:        stats,
		appends:      prometheus.NewDesc("ledger_appends_total", "Journal entries appended.", nil, nil),
		commits:      prometheus.NewDesc("ledger_commits_total", "Store write transactions committed.", nil, nil),
		commitErrors: prometheus.NewDesc("ledger_commit_errors_total", "Store write transactions that failed to commit.", nil, nil),
		batch:        prometheus.NewDesc("ledger_commit_batch_size", "Requests per committed write transaction.", nil, nil),
		q:            prometheus.NewDesc("ledger_queue_length", "Write requests waiting for a commit.", nil, nil),
		sweepFailures: prometheus.NewDesc("aixin_sweep_failures_total",
			"Items a background sweep (voucher expiry, attendances left open) had to skip; the log says which and why.", []string{"sweep"}, nil),
		sweepsSkipped: prometheus.NewDesc("aixin_sweeps_skipped_total",
			"Runs of a background sweep left to another app server that was running it (PostgreSQL).", []string{"sweep"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (sc *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sc.appends, sc.commits, sc.commitErrors, sc.batch, sc.q, sc.sweepFailures, sc.sweepsSkipped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (sc *storeCollector) Collect(ch chan<- prometheus.Metric) {
	st := sc.stats()
	ch <- prometheus.MustNewConstMetric(sc.appends, prometheus.CounterValue, float64(st.Appends))
	ch <- prometheus.MustNewConstMetric(sc.commits, prometheus.CounterValue, float64(st.Commits))
	ch <- prometheus.MustNewConstMetric(sc.commitErrors, prometheus.CounterValue, float64(st.CommitErrors))
	ch <- prometheus.MustNewConstMetric(sc.q, prometheus.GaugeValue, float64(st.QueueLen))
	for name, n := range st.SweepFailures {
		ch <- prometheus.MustNewConstMetric(sc.sweepFailures, prometheus.CounterValue, float64(n), name)
	}
	for name, n := range st.SweepsSkipped {
		ch <- prometheus.MustNewConstMetric(sc.sweepsSkipped, prometheus.CounterValue, float64(n), name)
	}
	n := min(len(st.BatchSizeBuckets), len(st.BatchSizeCounts))
	buckets := make(map[float64]uint64, n)
	var count uint64
	for i := range n {
		buckets[st.BatchSizeBuckets[i]] = st.BatchSizeCounts[i]
		count = max(count, st.BatchSizeCounts[i])
	}
	ch <- prometheus.MustNewConstHistogram(sc.batch, count, float64(st.BatchSizeSum), buckets)
}
