package metrics

import (
	"context"
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

	"alishop/internal/shop"
	"alishop/internal/store"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"alipay_trade_query_response":{"code":"10000","msg":"Success"},"sign":"x"}`, resultSuccess},
		{200, `{"alipay_trade_refund_response":{"code":"20000","msg":"Service Currently Unavailable"},"sign":"x"}`, resultUnknown},
		{200, `{"alipay_trade_refund_response":{"code":"40004","sub_code":"ACQ.SYSTEM_ERROR"},"sign":"x"}`, resultUnknown},
		{200, `{"alipay_trade_close_response":{"code":"40004","sub_code":"ACQ.TRADE_NOT_EXIST"},"sign":"x"}`, resultBusiness},
		{200, `{"error_response":{"code":"40002","sub_code":"isv.invalid-signature"}}`, resultError},
		{200, `not json`, resultUnknown},
		{502, `bad gateway`, resultUnknown},
		{400, `{"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在"}`, resultBusiness},
		{500, `{"code":"SYSTEM_ERROR"}`, resultUnknown},
		{200, `{"trade_no":"2026","trade_status":"TRADE_SUCCESS"}`, resultSuccess},
	} {
		if got := classify(c.status, []byte(c.body)); got != c.want {
			t.Errorf("%d %s: %s, want %s", c.status, c.body, got, c.want)
		}
	}
}

func TestCallMethod(t *testing.T) {
	for u, want := range map[string]string{
		"https://openapi.alipay.com/gateway.do?charset=utf-8&method=alipay.trade.query": "alipay.trade.query",
		"http://127.0.0.1:1/sandbox/v3/alipay/trade/refund":                             "alipay.trade.refund",
		"http://127.0.0.1:1/bill/abc":                                                   "other",
		"https://x/gateway.do?method=" + strings.Repeat("a", 100):                       "other",
		"https://x/gateway.do?method=alipay.trade.query%3Cscript%3E":                    "other",
	} {
		req, _ := http.NewRequest("POST", u, nil)
		if got := callMethod(req); got != want {
			t.Errorf("%s: %q, want %q", u, got, want)
		}
	}
}

// The transport hands the client the exact bytes the gateway sent, and
// counts the call once with its latency.
func TestTransportPassesBodyThrough(t *testing.T) {
	body := `{"alipay_trade_refund_response":{"code":"10000","fund_change":"Y"},"sign":"abc"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
	defer srv.Close()
	m := New(nil, nil)
	c := &http.Client{Transport: m.Transport(nil)}
	resp, err := c.Post(srv.URL+"/gateway.do?method=alipay.trade.refund", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != body {
		t.Fatalf("body %q", got)
	}
	if v := testutil.ToFloat64(m.alipayCalls.WithLabelValues("alipay.trade.refund", resultSuccess)); v != 1 {
		t.Errorf("calls = %v", v)
	}
	// A gateway that cannot be reached: an unknown outcome.
	srv.Close()
	if _, err := c.Post(srv.URL+"/gateway.do?method=alipay.trade.refund", "text/plain", nil); err == nil {
		t.Fatal("no error from a closed server")
	}
	if v := testutil.ToFloat64(m.unknown.WithLabelValues("alipay.trade.refund")); v != 1 {
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
