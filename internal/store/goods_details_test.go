package store_test

import (
	"context"
	"errors"
	"slices"
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
		if ps, err := db.GoodsPictures(ctx, g.ID); err != nil || len(ps) != 0 {
			t.Fatalf("pictures of goods without any: %v %v", ps, err)
		}
		pic := func(v string) shop.NewPicture {
			return shop.NewPicture{Picture: shop.Picture{Version: v, Width: 3000, Height: 4000},
				Large: shop.PictureCopy{ContentType: "image/jpeg", Data: []byte("large " + v)},
				Small: shop.PictureCopy{ContentType: "image/jpeg", Data: []byte("small " + v)}}
		}
		versions := func() []string {
			t.Helper()
			ps, err := db.GoodsPictures(ctx, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			var vs []string
			for _, p := range ps {
				if p.Width != 3000 || p.Height != 4000 {
					t.Errorf("picture %+v", p)
				}
				vs = append(vs, p.Version)
			}
			return vs
		}
		if err := db.SetGoodsPictures(ctx, g.ID, nil, []shop.NewPicture{pic("a"), pic("b"), pic("c")}, now); err != nil {
			t.Fatal(err)
		}
		if vs := versions(); !slices.Equal(vs, []string{"a", "b", "c"}) {
			t.Fatalf("pictures %v", vs)
		}
		got, err := db.GoodsPicture(ctx, g.ID, "b", shop.PictureLarge)
		if err != nil || got.ContentType != "image/jpeg" || string(got.Data) != "large b" {
			t.Fatalf("picture b large: %+v %v", got, err)
		}
		if got, err := db.GoodsPicture(ctx, g.ID, "b", shop.PictureSmall); err != nil || string(got.Data) != "small b" {
			t.Fatalf("picture b small: %+v %v", got, err)
		}
		// Reordered (c first), b removed, d added: kept pictures keep their bytes.
		keep := func(v string) shop.NewPicture { return shop.NewPicture{Picture: shop.Picture{Version: v}} }
		if err := db.SetGoodsPictures(ctx, g.ID, []string{"a", "b", "c"}, []shop.NewPicture{keep("c"), keep("a"), pic("d")}, now); err != nil {
			t.Fatal(err)
		}
		if vs := versions(); !slices.Equal(vs, []string{"c", "a", "d"}) {
			t.Fatalf("pictures after the edit %v", vs)
		}
		if got, err := db.GoodsPicture(ctx, g.ID, "a", shop.PictureSmall); err != nil || string(got.Data) != "small a" {
			t.Fatalf("kept picture a: %+v %v", got, err)
		}
		if _, err := db.GoodsPicture(ctx, g.ID, "b", shop.PictureSmall); !errors.Is(err, shop.ErrImageNotFound) {
			t.Fatalf("removed picture: %v", err)
		}
		// An edit made from an outdated form changes nothing.
		if err := db.SetGoodsPictures(ctx, g.ID, []string{"a", "b", "c"}, []shop.NewPicture{pic("e")}, now); !errors.Is(err, shop.ErrPicturesChanged) {
			t.Fatalf("outdated edit: %v", err)
		}
		if vs := versions(); !slices.Equal(vs, []string{"c", "a", "d"}) {
			t.Fatalf("pictures after the outdated edit %v", vs)
		}
		gs, err := db.ListGoods(ctx, false)
		if err != nil || len(gs) != 1 || gs[0].Description != "第一行\n第二行" || gs[0].ImageVersion != "c" {
			t.Fatalf("goods %+v %v", gs, err)
		}
		// An update of the other fields keeps the pictures.
		g.Description = ""
		if err := db.UpdateGoods(ctx, &g, nil); err != nil {
			t.Fatal(err)
		}
		if g2, _ := db.Goods(ctx, g.ID); g2.Description != "" || g2.ImageVersion != "c" {
			t.Fatalf("after update: %+v", g2)
		}
		if err := db.SetGoodsPictures(ctx, 9999, nil, []shop.NewPicture{pic("a")}, now); !errors.Is(err, shop.ErrGoodsNotFound) {
			t.Fatalf("pictures of missing goods: %v", err)
		}
		if err := db.SetGoodsPictures(ctx, g.ID, []string{"c", "a", "d"}, nil, now); err != nil {
			t.Fatal(err)
		}
		if g2, _ := db.Goods(ctx, g.ID); g2.ImageVersion != "" {
			t.Fatalf("deleted pictures still named: %+v", g2)
		}
		if _, err := db.GoodsPicture(ctx, g.ID, "c", shop.PictureLarge); !errors.Is(err, shop.ErrImageNotFound) {
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
