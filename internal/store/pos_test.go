package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/store"
)

// Counter orders on each backend: stored under their one-time key (a
// second insert under it is refused), found by it, with their channel and
// note; the reserved goods row they name is never listed, edited or
// deleted, and web orders keep channel web.
func TestPOSOrdersEachBackend(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *store.DB, _ source) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		key := shop.NewPOSKey()
		o := shop.Order{OutTradeNo: "pos1", Subject: "柜台", Amount: alipay.MustAmount("2500.00"), CreatedAt: now, UpdatedAt: now, TimeExpire: now.Add(30 * time.Second)}
		if err := db.CreatePOSOrder(ctx, &o, key); err != nil {
			t.Fatal(err)
		}
		dup := shop.Order{OutTradeNo: "pos2", Subject: "柜台", Amount: 100, CreatedAt: now, UpdatedAt: now}
		if err := db.CreatePOSOrder(ctx, &dup, key); !errors.Is(err, shop.ErrOrderExists) {
			t.Fatalf("same key again: %v; want ErrOrderExists", err)
		}
		got, err := db.OrderByPOSKey(ctx, key)
		if err != nil || got.OutTradeNo != "pos1" || got.Channel != shop.OrderChannelPOS || got.GoodsID != shop.POSGoodsID ||
			got.Amount != o.Amount || got.Status != shop.StatusUnpaid || !got.TimeExpire.Equal(o.TimeExpire) {
			t.Fatalf("by key: %+v %v", got, err)
		}
		if _, err := db.OrderByPOSKey(ctx, shop.NewPOSKey()); !errors.Is(err, shop.ErrOrderNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
		if err := db.SetPOSNote(ctx, "pos1", "付款码无效"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Order(ctx, "pos1"); got.POSNote != "付款码无效" {
			t.Fatalf("note %q", got.POSNote)
		}

		g := goods(t, db, "网上商品", 100, false)
		w := shop.Order{OutTradeNo: "web1", GoodsID: g.ID, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateOrder(ctx, &w); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Order(ctx, "web1"); got.Channel != shop.OrderChannelWeb {
			t.Fatalf("web order channel %q", got.Channel)
		}
		list, err := db.ListGoods(ctx, true)
		if err != nil || len(list) != 1 || list[0].ID != g.ID {
			t.Fatalf("goods listed: %+v %v; want only %d", list, err, g.ID)
		}
		if _, err := db.Goods(ctx, shop.POSGoodsID); !errors.Is(err, shop.ErrGoodsNotFound) {
			t.Fatalf("reserved goods: %v; want not found", err)
		}
		if err := db.UpdateGoods(ctx, &shop.Goods{ID: shop.POSGoodsID, Name: "x", Price: 1, UpdatedAt: now}, nil); !errors.Is(err, shop.ErrGoodsNotFound) {
			t.Fatalf("edit reserved goods: %v", err)
		}
		if err := db.DeleteGoods(ctx, shop.POSGoodsID); err == nil {
			t.Fatal("reserved goods deleted")
		}
	})
}
