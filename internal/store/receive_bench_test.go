package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"alishop/internal/shop"
	"alishop/internal/store"
)

// BenchmarkReceive: the store's part of a fresh payment notification (lock
// the order, pay it by compare-and-set, record the message, commit
// durably) from 64 goroutines, on each backend in the same run.
//
//	ALISHOP_TEST_POSTGRES=postgres://root@127.0.0.1:5432/test?sslmode=disable \
//	    go test ./internal/store -run '^$' -bench Receive -benchtime 3000x
func BenchmarkReceive(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, be.fresh(b), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			now := time.Now()
			g := shop.Goods{Name: "课程", Price: 100, CreatedAt: now, UpdatedAt: now}
			if err := db.CreateGoods(ctx, &g); err != nil {
				b.Fatal(err)
			}
			nos := make([]string, b.N)
			for i := range nos {
				nos[i] = fmt.Sprintf("B%08d", i)
				o := shop.Order{OutTradeNo: nos[i], GoodsID: g.ID, CreatedAt: now, UpdatedAt: now}
				if err := db.CreateOrder(ctx, &o); err != nil {
					b.Fatal(err)
				}
			}
			body := make([]byte, 900)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= b.N {
							return
						}
						no := nos[i]
						// Each notification is another message (its own body), as Alipay's are.
						msg := append([]byte(no+"&"), body...)
						d, err := db.Receive(ctx, &shop.Inbound{Source: shop.SourceNotify, ReceivedAt: now, Method: "POST", Body: msg,
							Verified: true, NotifyID: "n" + no, OutTradeNo: no, TradeStatus: "TRADE_SUCCESS"},
							func(o *shop.Order, _ *shop.Refund) shop.Decision {
								return shop.Decision{Outcome: shop.OutcomeApplied, Ack: true,
									Pay: &shop.Payment{OutTradeNo: no, TradeNo: "T" + no, Amount: o.Amount, PaidAt: now, Via: shop.SourceNotify}}
							})
						if err != nil || d.Outcome != shop.OutcomeApplied {
							b.Error(d, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "receives/s")
		})
	}
}
