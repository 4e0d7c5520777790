package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// The admin's reports on each backend: the search matches the start of an
// order number or a trade number (LIKE's wildcards are taken literally),
// the dates bound the creation time, the counts follow the search, the
// day's sales count what was paid in it, and goods go only while no order
// names them.
func TestReportsEachBackend(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		day := time.Date(2026, 6, 18, 0, 0, 0, 0, alipay.Beijing)
		a := paidOrder(t, db, "20260618a_1", 1000, day.Add(9*time.Hour))
		paidOrder(t, db, "20260618b%2", 2500, day.Add(23*time.Hour+59*time.Minute))
		paidOrder(t, db, "20260619c", 700, day.Add(24*time.Hour))
		g := goods(t, db, "未付", 300, false)
		unpaid := shop.Order{OutTradeNo: "20260617d", GoodsID: g.ID, CreatedAt: day.Add(-time.Hour), UpdatedAt: day.Add(-time.Hour)}
		if err := db.CreateOrder(ctx, &unpaid); err != nil {
			t.Fatal(err)
		}

		list := func(f shop.OrderFilter) []string {
			t.Helper()
			os, total, err := db.ListOrders(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var nos []string
			for _, o := range os {
				nos = append(nos, o.OutTradeNo)
			}
			if total != len(nos) {
				t.Errorf("%+v: total %d, listed %d", f, total, len(nos))
			}
			return nos
		}
		for _, c := range []struct {
			f    shop.OrderFilter
			want []string
		}{
			{shop.OrderFilter{Query: "20260618"}, []string{"20260618b%2", "20260618a_1"}},
			{shop.OrderFilter{Query: "20260618a_"}, []string{"20260618a_1"}},
			{shop.OrderFilter{Query: "2026061_"}, nil}, // _ is not a wildcard
			{shop.OrderFilter{Query: "20260618b%"}, []string{"20260618b%2"}},
			{shop.OrderFilter{Query: "T20260619"}, []string{"20260619c"}}, // the trade number
			{shop.OrderFilter{Query: "20260619c", Status: shop.StatusUnpaid}, nil},
			{shop.OrderFilter{From: day, To: day.AddDate(0, 0, 1)}, []string{"20260618b%2", "20260618a_1"}},
			{shop.OrderFilter{From: day.AddDate(0, 0, 1)}, []string{"20260619c"}},
			{shop.OrderFilter{To: day}, []string{"20260617d"}},
		} {
			if got := list(c.f); !slices.Equal(got, c.want) {
				t.Errorf("%+v: %v, want %v", c.f, got, c.want)
			}
		}

		counts, err := db.CountOrders(ctx, shop.OrderFilter{From: day.Add(-time.Hour), To: day.AddDate(0, 0, 1), Status: shop.StatusClosed})
		if err != nil || len(counts) != 2 || counts[shop.StatusPaid] != 2 || counts[shop.StatusUnpaid] != 1 {
			t.Errorf("counts %v %v", counts, err)
		}
		n, sum, err := db.Sales(ctx, day, day.AddDate(0, 0, 1))
		if err != nil || n != 2 || sum != 3500 {
			t.Errorf("sales of the day: %d %s %v", n, sum, err)
		}
		if n, sum, err := db.Sales(ctx, day.AddDate(0, 0, 5), day.AddDate(0, 0, 6)); err != nil || n != 0 || sum != 0 {
			t.Errorf("sales of an empty day: %d %s %v", n, sum, err)
		}

		free := goods(t, db, "没人买", 100, false)
		pic := shop.NewPicture{Picture: shop.Picture{Version: "v1"}, Large: shop.PictureCopy{ContentType: "image/png", Data: []byte("png")},
			Small: shop.PictureCopy{ContentType: "image/png", Data: []byte("p")}}
		if err := db.SetGoodsPictures(ctx, free.ID, nil, []shop.NewPicture{pic}, day); err != nil {
			t.Fatal(err)
		}
		ordered, err := db.GoodsOrdered(ctx)
		if err != nil || !ordered[a.GoodsID] || !ordered[g.ID] || ordered[free.ID] {
			t.Errorf("goods ordered %v %v", ordered, err)
		}
		if err := db.DeleteGoods(ctx, a.GoodsID); !errors.Is(err, shop.ErrGoodsOrdered) {
			t.Errorf("deleting ordered goods: %v", err)
		}
		if _, err := db.Goods(ctx, a.GoodsID); err != nil {
			t.Errorf("ordered goods gone: %v", err)
		}
		if err := db.DeleteGoods(ctx, free.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Goods(ctx, free.ID); !errors.Is(err, shop.ErrGoodsNotFound) {
			t.Errorf("deleted goods still there: %v", err)
		}
		if _, err := db.GoodsPicture(ctx, free.ID, "v1", shop.PictureSmall); !errors.Is(err, shop.ErrImageNotFound) {
			t.Errorf("deleted goods' picture: %v", err)
		}
		if err := db.DeleteGoods(ctx, free.ID); !errors.Is(err, shop.ErrGoodsNotFound) {
			t.Errorf("deleting again: %v", err)
		}
	})
}
