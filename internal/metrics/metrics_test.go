package metrics

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// The client's report of a call becomes one count with the call's outcome
// as its result label, and one latency observation.
func TestAlipayCall(t *testing.T) {
	t.Parallel()
	m := New(nil, nil)
	for _, c := range []struct {
		outcome alipay.Outcome
		want    string
	}{
		{alipay.OutcomeOK, resultSuccess},
		{alipay.OutcomeBusinessError, resultBusiness},
		{alipay.OutcomeGatewayError, resultError},
		{alipay.OutcomeUnknown, resultUnknown},
		{alipay.OutcomeTransportError, resultUnknown},
	} {
		m.AlipayCall(alipay.CallReport{Method: "alipay.trade.refund", Outcome: c.outcome, Duration: time.Millisecond})
		if v := testutil.ToFloat64(m.alipayCalls.WithLabelValues("alipay.trade.refund", c.want)); v < 1 {
			t.Errorf("%s: no %s count", c.outcome, c.want)
		}
	}
	if v := testutil.ToFloat64(m.unknown.WithLabelValues("alipay.trade.refund")); v != 2 {
		t.Errorf("unknown outcomes = %v, want 2", v)
	}
	if n := testutil.CollectAndCount(m.alipayLatency); n != 1 {
		t.Errorf("latency series = %d", n)
	}
	for in, want := range map[string]string{
		"alipay.trade.query":                  "alipay.trade.query",
		"":                                    "other",
		strings.Repeat("a", 100):              "other",
		"alipay.trade.query<script>":          "other",
		"alipay.open.app.alipaycert.download": "alipay.open.app.alipaycert.download",
	} {
		if got := methodLabel(in); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// The client reports its calls to the metrics: a real call through a real
// client against a gateway that answers an unsigned 40002 and then cannot
// be reached.
func TestAlipayClientReports(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id"}}`)
	}))
	defer srv.Close()
	m := New(nil, nil)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c, err := alipay.New(alipay.Config{AppID: "2021000000000000", PrivateKey: key, AlipayPublicKey: &other.PublicKey,
		Gateway: srv.URL + "/gateway.do", OnCall: m.AlipayCall})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TradeQuery(t.Context(), alipay.TradeQueryRequest{OutTradeNo: "o1"}); err == nil {
		t.Fatal("no error")
	}
	srv.Close()
	if _, err := c.TradeQuery(t.Context(), alipay.TradeQueryRequest{OutTradeNo: "o1"}); !alipay.IsUnknownOutcome(err) {
		t.Fatalf("closed gateway: %v", err)
	}
	if v := testutil.ToFloat64(m.alipayCalls.WithLabelValues("alipay.trade.query", resultError)); v != 1 {
		t.Errorf("gateway errors = %v", v)
	}
	if v := testutil.ToFloat64(m.unknown.WithLabelValues("alipay.trade.query")); v != 1 {
		t.Errorf("unknown outcomes = %v", v)
	}
}

type fakeState struct{ err error }

func (f fakeState) JobCounts(context.Context, time.Time) ([]store.JobCount, error) {
	return []store.JobCount{{Kind: "order", State: "scheduled", N: 3}}, f.err
}
func (f fakeState) GoodsCounts(context.Context) (int, int, error) { return 4, 1, f.err }
func (f fakeState) BillChecks(context.Context, int) ([]shop.BillCheck, error) {
	return []shop.BillCheck{{BillDate: "2026-11-26", CheckedAt: time.Unix(1764000000, 0), Mismatches: 2}}, f.err
}

func TestScrape(t *testing.T) {
	t.Parallel()
	m := New(fakeState{}, nil)
	m.OrderCreated()
	m.Received(shop.SourceNotify, shop.Decision{Outcome: shop.OutcomeApplied, Pay: &shop.Payment{Via: shop.SourceNotify}})
	m.Received(shop.SourceQuery, shop.Decision{Outcome: shop.OutcomeApplied, Pay: &shop.Payment{Via: shop.SourceQuery}})
	m.Received(shop.SourceNotify, shop.Decision{Outcome: shop.OutcomeBadSignature})
	m.Received(shop.SourceNotify, shop.Decision{Outcome: shop.OutcomeApplied, SettleRefund: "R1"})
	m.RefundOutcome(shop.RefundResultUnknown)
	m.Received(shop.SourceQuery, shop.Decision{Outcome: shop.OutcomeAmountMismatch, Review: "金额不符"})
	m.ObserveHTTP("GET /orders/{out_trade_no}", "GET", 200, time.Millisecond)
	m.ObserveHTTP("", "BREW", 404, time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		"alishop_orders_created_total 1",
		`alishop_payments_applied_total{source="notify"} 1`,
		`alishop_payments_applied_total{source="query"} 1`,
		`alishop_notifications_total{outcome="applied"} 2`,
		`alishop_notifications_total{outcome="bad_signature"} 1`,
		`alishop_refunds_total{result="succeeded"} 1`,
		`alishop_refunds_total{result="unknown"} 1`,
		`alishop_review_flags_total{source="query"} 1`,
		`alishop_review_flags_total{source="notify"} 0`,
		`alishop_http_requests_total{code="200",method="GET",route="GET /orders/{out_trade_no}"} 1`,
		`alishop_http_requests_total{code="404",method="other",route="unmatched"} 1`,
		`alishop_jobs{kind="order",state="scheduled"} 3`,
		`alishop_jobs{kind="refund",state="due"} 0`,
		`alishop_jobs{kind="payout",state="due"} 0`,
		`alishop_goods{state="listed"} 4`,
		`alishop_bill_check_mismatches 2`,
		"alishop_bill_check_timestamp_seconds 1.764e+09",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}

	// Two shops in one process each count their own.
	if other := New(fakeState{}, nil); testutil.ToFloat64(other.ordersCreated) != 0 {
		t.Error("a second Metrics shares counts with the first")
	}

	// A database that does not answer fails those metrics, not the scrape.
	bad := New(fakeState{err: errors.New("database is gone")}, nil)
	rec = httptest.NewRecorder()
	bad.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "alishop_orders_created_total 0") {
		t.Errorf("scrape with the database gone: %d\n%s", rec.Code, rec.Body.String())
	}
}

// TestDeployNamesExist: every alishop_ metric the dashboard, the alert rules
// and docs/OPERATIONS.md name is one the shop exports.
func TestDeployNamesExist(t *testing.T) {
	t.Parallel()
	m := New(fakeState{}, nil)
	m.ObserveHTTP("GET /{$}", "GET", 200, time.Millisecond)
	m.alipayLatency.WithLabelValues("alipay.trade.query").Observe(0.1)
	m.alipayCalls.WithLabelValues("alipay.trade.query", resultSuccess).Inc()
	m.unknown.WithLabelValues("alipay.trade.query").Inc()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			have[f.GetName()+suffix] = true
		}
	}
	name := regexp.MustCompile(`\balishop_[a-z_]+[a-z]`)
	for _, file := range []string{"../../deploy/grafana-dashboard.json", "../../deploy/prometheus-alerts.yml", "../../docs/OPERATIONS.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, used := range name.FindAllString(string(b), -1) {
			n++
			if !have[used] {
				t.Errorf("%s names %s, which the shop does not export", file, used)
			}
		}
		if n == 0 {
			t.Errorf("%s names no alishop_ metric", file)
		}
	}
}
