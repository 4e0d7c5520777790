package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"alishop/internal/shop"
	"alishop/internal/store"
)

// Goods descriptions and pictures, and the refund key, on each backend.
func TestGoodsDetailsEachBackend(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		g := shop.Goods{Name: "带图商品", Price: 500, Description: "第一行\n第二行", CreatedAt: now, UpdatedAt: now}
		if err := db.CreateGoods(ctx, &g); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.GoodsImage(ctx, g.ID); !errors.Is(err, shop.ErrImageNotFound) {
			t.Fatalf("picture of goods without one: %v", err)
		}
		img := shop.Image{ContentType: "image/png", Data: []byte{0x89, 'P', 'N', 'G', 0, 0xff}}
		v1, err := db.SetGoodsImage(ctx, g.ID, img, now)
		if err != nil || v1 == "" {
			t.Fatalf("set picture: %q %v", v1, err)
		}
		got, v, err := db.GoodsImage(ctx, g.ID)
		if err != nil || v != v1 || got.ContentType != "image/png" || string(got.Data) != string(img.Data) {
			t.Fatalf("picture %+v %q %v", got, v, err)
		}
		img.Data = append(img.Data, 1)
		v2, err := db.SetGoodsImage(ctx, g.ID, img, now)
		if err != nil || v2 == v1 {
			t.Fatalf("replaced picture has version %q (was %q): %v", v2, v1, err)
		}
		gs, err := db.ListGoods(ctx, false)
		if err != nil || len(gs) != 1 || gs[0].Description != "第一行\n第二行" || gs[0].ImageVersion != v2 {
			t.Fatalf("goods %+v %v", gs, err)
		}
		// An update of the other fields keeps the picture.
		g.Description = ""
		if err := db.UpdateGoods(ctx, &g); err != nil {
			t.Fatal(err)
		}
		if g2, _ := db.Goods(ctx, g.ID); g2.Description != "" || g2.ImageVersion != v2 {
			t.Fatalf("after update: %+v", g2)
		}
		if _, err := db.SetGoodsImage(ctx, 9999, img, now); !errors.Is(err, shop.ErrGoodsNotFound) {
			t.Fatalf("picture of missing goods: %v", err)
		}
		if err := db.DeleteGoodsImage(ctx, g.ID, now); err != nil {
			t.Fatal(err)
		}
		if g2, _ := db.Goods(ctx, g.ID); g2.ImageVersion != "" {
			t.Fatalf("deleted picture still named: %+v", g2)
		}
		if _, _, err := db.GoodsImage(ctx, g.ID); !errors.Is(err, shop.ErrImageNotFound) {
			t.Fatalf("deleted picture: %v", err)
		}

		// A refund's out_request_no is its identity: a second one with the
		// same number is refused, even when the order is refunded in full.
		o := paidOrder(t, db, "k1", 1000, now)
		r := shop.Refund{OutTradeNo: o.OutTradeNo, OutRequestNo: "R20261125120000aaaaaaaaaaaaaaaa", Amount: 1000, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateRefund(ctx, &r, now, allowRefund(&r)); err != nil {
			t.Fatal(err)
		}
		again := r
		again.Amount = 1
		if err := db.CreateRefund(ctx, &again, now, allowRefund(&again)); !errors.Is(err, shop.ErrRefundExists) {
			t.Fatalf("same out_request_no again: %v", err)
		}
		if rs, _ := db.OrderRefunds(ctx, o.OutTradeNo); len(rs) != 1 {
			t.Fatalf("refunds %+v", rs)
		}
	})
}
