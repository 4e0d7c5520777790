// Package metrics exposes the shop's Prometheus metrics: what the shop did
// (orders, payments, notifications, refunds; it implements shop.Observer),
// its Alipay calls (an http.RoundTripper around the Alipay client's
// transport), its HTTP requests, counts read from the database at scrape
// time (background jobs, goods), and the Go runtime and process.
//
// Every Metrics has its own registry, so several shops in one process (as
// in tests) never share or clash over metrics. Label values come from fixed
// sets (outcomes, Alipay method names, route patterns), never from request
// data, so the number of series stays bounded.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"alishop/internal/shop"
	"alishop/internal/store"
)

// State is what is counted from the database at each scrape (implemented by
// *store.DB).
type State interface {
	JobCounts(ctx context.Context, now time.Time) ([]store.JobCount, error)
	GoodsCounts(ctx context.Context) (listed, hidden int, err error)
	BillChecks(ctx context.Context, limit int) ([]shop.BillCheck, error)
}

// Metrics holds one shop's metrics.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	ordersCreated   prometheus.Counter
	paymentsApplied *prometheus.CounterVec
	notifications   *prometheus.CounterVec
	refunds         *prometheus.CounterVec
	reviews         *prometheus.CounterVec

	alipayCalls   *prometheus.CounterVec
	alipayLatency *prometheus.HistogramVec
	unknown       *prometheus.CounterVec

	httpRequests *prometheus.CounterVec
	httpLatency  *prometheus.HistogramVec
}

var _ shop.Observer = (*Metrics)(nil)

// New returns the metrics of one shop; state (may be nil) is read at each
// scrape.
func New(state State, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: log}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.ordersCreated = prometheus.NewCounter(prometheus.CounterOpts{Name: "alishop_orders_created_total",
		Help: "Orders created (checkouts)."})
	m.paymentsApplied = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alishop_payments_applied_total",
		Help: "Orders marked paid, by how the payment became known: notify (the notification) or query (alipay.trade.query after the buyer's return, the order page's button or the reconciler)."}, []string{"source"})
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alishop_notifications_total",
		Help: "Alipay notifications received, by outcome (applied, duplicate, bad_signature, amount_mismatch, …)."}, []string{"outcome"})
	m.refunds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alishop_refunds_total",
		Help: "Refund attempts by result: succeeded, failed (refused by Alipay), unknown (settled later)."}, []string{"result"})
	m.reviews = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alishop_review_flags_total",
		Help: "Messages from Alipay that contradicted an order and flagged it for review (需核查), by source (notify, return, query)."}, []string{"source"})
	m.alipayCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alishop_alipay_requests_total",
		Help: "Calls to the Alipay gateway by method and result: success, business_error (Alipay refused), error, unknown (no usable answer; the outcome is settled later)."},
		[]string{"method", "result"})
	m.alipayLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "alishop_alipay_request_duration_seconds",
		Help:    "Time from sending a call to the Alipay gateway to reading its whole answer.",
		Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30}}, []string{"method"})
	m.unknown = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alishop_alipay_unknown_outcomes_total",
		Help: "Alipay calls whose outcome is unknown (no answer, or one that does not say what happened; the client classifies it), by method."},
		[]string{"method"})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alishop_http_requests_total",
		Help: "HTTP requests served, by route pattern, method and status code."}, []string{"route", "method", "code"})
	m.httpLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "alishop_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route"})
	for _, c := range []prometheus.Collector{m.ordersCreated, m.paymentsApplied, m.notifications, m.refunds, m.reviews,
		m.alipayCalls, m.alipayLatency, m.unknown, m.httpRequests, m.httpLatency} {
		f(c)
	}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if state != nil {
		f(&stateCollector{state: state, log: log})
	}
	// Series that alerts compare against exist from the start at 0.
	// A return redirect is confirmed by a query, so payments are known by
	// notify or query.
	for _, s := range []string{shop.SourceNotify, shop.SourceQuery} {
		m.paymentsApplied.WithLabelValues(s)
	}
	for _, o := range []shop.Outcome{shop.OutcomeApplied, shop.OutcomeDuplicate, shop.OutcomeBadSignature,
		shop.OutcomeAmountMismatch, shop.OutcomeReview, shop.OutcomeFailed} {
		m.notifications.WithLabelValues(string(o))
	}
	for _, s := range []string{shop.SourceNotify, shop.SourceReturn, shop.SourceQuery} {
		m.reviews.WithLabelValues(s)
	}
	for _, r := range []shop.RefundResult{shop.RefundResultSucceeded, shop.RefundResultFailed, shop.RefundResultUnknown} {
		m.refunds.WithLabelValues(string(r))
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // promhttp_metric_handler_errors_total
	})
}

// Registry is the registry the metrics are in (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// OrderCreated implements shop.Observer.
func (m *Metrics) OrderCreated() { m.ordersCreated.Inc() }

// Received implements shop.Observer.
func (m *Metrics) Received(source string, d shop.Decision) {
	if source == shop.SourceNotify {
		m.notifications.WithLabelValues(string(d.Outcome)).Inc()
	}
	if d.Review != "" {
		m.reviews.WithLabelValues(source).Inc()
	}
	if d.Outcome != shop.OutcomeApplied {
		return
	}
	if d.Pay != nil {
		m.paymentsApplied.WithLabelValues(d.Pay.Via).Inc()
	}
	if d.SettleRefund != "" {
		m.refunds.WithLabelValues(string(shop.RefundResultSucceeded)).Inc()
	}
}

// RefundOutcome implements shop.Observer.
func (m *Metrics) RefundOutcome(r shop.RefundResult) { m.refunds.WithLabelValues(string(r)).Inc() }

// ObserveHTTP records one HTTP request served. route is the pattern that
// matched ("" for none).
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, httpMethod(method), strconv.Itoa(status)).Inc()
	m.httpLatency.WithLabelValues(route).Observe(d.Seconds())
}

// httpMethod bounds the method label to the methods HTTP defines.
func httpMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// stateCollector reads counts from the database at each scrape.
type stateCollector struct {
	state State
	log   *slog.Logger
}

var (
	jobsDesc = prometheus.NewDesc("alishop_jobs", "Background jobs (order reconciliation, refund settling, bill checks) by kind and state: due, running, scheduled, done.",
		[]string{"kind", "state"}, nil)
	goodsDesc = prometheus.NewDesc("alishop_goods", "Goods by state: listed for sale or hidden.", []string{"state"}, nil)
	billDesc  = prometheus.NewDesc("alishop_bill_check_mismatches", "Mismatches found by the bill check of the latest day checked (0 when it matched).", nil, nil)
	billAt    = prometheus.NewDesc("alishop_bill_check_timestamp_seconds", "When the latest day's bill was checked (Unix time).", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- goodsDesc
	ch <- billDesc
	ch <- billAt
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.state.JobCounts(ctx, time.Now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
	} else {
		seen := map[[2]string]bool{}
		for _, jc := range counts {
			seen[[2]string{jc.Kind, jc.State}] = true
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(jc.N), jc.Kind, jc.State)
		}
		// due and running exist at 0 so that alerts on them have a series.
		for _, k := range []string{"order", "refund", "payout", "bill", "complete"} {
			for _, s := range []string{"due", "running"} {
				if !seen[[2]string{k, s}] {
					ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, 0, k, s)
				}
			}
		}
	}
	listed, hidden, err := c.state.GoodsCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(goodsDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(goodsDesc, prometheus.GaugeValue, float64(listed), "listed")
		ch <- prometheus.MustNewConstMetric(goodsDesc, prometheus.GaugeValue, float64(hidden), "hidden")
	}
	checks, err := c.state.BillChecks(ctx, 1)
	switch {
	case err != nil:
		ch <- prometheus.NewInvalidMetric(billDesc, err)
	case len(checks) > 0:
		ch <- prometheus.MustNewConstMetric(billDesc, prometheus.GaugeValue, float64(checks[0].Mismatches))
		ch <- prometheus.MustNewConstMetric(billAt, prometheus.GaugeValue, float64(checks[0].CheckedAt.UnixMilli())/1000)
	}
}
