package store_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// TestAnswerHeadersStored: an answer's protocol, HTTP status and signature
// headers come back from the store as they went in, also when many are
// received at once (PostgreSQL batches them), and a notification keeps
// none.
func TestAnswerHeadersStored(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		unknown := func(*shop.Order, *shop.Refund) shop.Decision { return shop.Decision{Outcome: shop.OutcomeUnknownOrder} }
		const n = 16
		header := func(i int) http.Header {
			return http.Header{"Alipay-Signature": {fmt.Sprintf("sig%d+/=", i)}, "Alipay-Nonce": {fmt.Sprint("nonce", i)},
				"Alipay-Timestamp": {"1764244800000"}, "Alipay-Sn": {"sn:1"}, "Content-Type": {"application/json; charset=utf-8"}}
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				in := &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: now, Method: "alipay.trade.query", Verified: true,
					Body: fmt.Appendf(nil, `{"out_trade_no":"a%02d"}`, i), OutTradeNo: fmt.Sprintf("a%02d", i),
					API: alipay.APIv3, StatusCode: 200 + i%2*200, Header: header(i)}
				if _, err := db.Receive(ctx, in, unknown); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Go(func() {
			in := &shop.Inbound{Source: shop.SourceNotify, ReceivedAt: now, Body: []byte("notify_id=x&sign=y"), Verified: true, OutTradeNo: "zz"}
			if _, err := db.Receive(ctx, in, unknown); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		ns, err := db.Notifications(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != n+1 {
			t.Fatalf("%d messages stored, want %d", len(ns), n+1)
		}
		for _, m := range ns {
			if m.Source == shop.SourceNotify {
				if m.API != "" || m.StatusCode != 0 || m.Header != nil {
					t.Errorf("notification stored with %q, %d, %v", m.API, m.StatusCode, m.Header)
				}
				continue
			}
			var i int
			if _, err := fmt.Sscanf(m.OutTradeNo, "a%02d", &i); err != nil {
				t.Fatal(err)
			}
			if m.API != alipay.APIv3 || m.StatusCode != 200+i%2*200 || !reflect.DeepEqual(m.Header, header(i)) {
				t.Errorf("answer %s stored as %q, %d, %v", m.OutTradeNo, m.API, m.StatusCode, m.Header)
			}
		}
	})
}
