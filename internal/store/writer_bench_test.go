package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// BenchmarkCreateOrderParallel: durable order inserts from 32×GOMAXPROCS
// concurrent callers through the group-commit writer (the store's share of
// checkout).
func BenchmarkCreateOrderParallel(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "shop.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	g := shop.Goods{Name: "课程", Price: alipay.Amount(100), CreatedAt: now, UpdatedAt: now}
	if err := db.CreateGoods(ctx, &g); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o := shop.Order{OutTradeNo: fmt.Sprint("o", n.Add(1)), GoodsID: g.ID, CreatedAt: now, UpdatedAt: now}
			if err := db.CreateOrder(ctx, &o); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}
