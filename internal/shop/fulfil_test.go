package shop_test

import (
	"errors"
	"testing"
	"time"

	"alishop/internal/shop"
)

// The fulfilment decisions, given their time: 待发货 → 已发货 → 已完成 for
// shipped goods, refunds ending it, the auto-complete due only after its
// period.
func TestFulfilmentDecisions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	paid := shop.Order{OutTradeNo: "n1", Status: shop.StatusPaid, Shipping: true}
	if paid.Stage() != shop.StageToShip || paid.Stage().Label() != "待发货" {
		t.Fatalf("paid shipped goods: %s", paid.Stage())
	}
	if v := (shop.Order{Status: shop.StatusPaid}); v.Stage() != shop.StageCompleted {
		t.Fatalf("paid virtual goods: %s", v.Stage())
	}
	tr, err := shop.DecideShip(paid, "顺丰速运", "SF1", 48*time.Hour, now)
	if err != nil || tr.To != shop.FulfilShipped || !tr.CompleteAt.Equal(now.Add(48*time.Hour)) || tr.Event.Actor != shop.ActorAdmin {
		t.Fatalf("ship: %+v %v", tr, err)
	}
	if _, err := shop.DecideReceive(paid, now); shop.ErrorCode(err) != shop.EINVALID {
		t.Fatalf("receiving what was not shipped: %v", err)
	}
	for _, o := range []shop.Order{
		{Status: shop.StatusUnpaid, Shipping: true},
		{Status: shop.StatusClosed, Shipping: true},
		{Status: shop.StatusRefunded, Shipping: true},
		{Status: shop.StatusPaid},
	} {
		if _, err := shop.DecideShip(o, "顺丰速运", "SF1", 0, now); shop.ErrorCode(err) != shop.EINVALID {
			t.Errorf("shipping %+v: %v", o, err)
		}
	}
	shipped := paid
	shipped.Fulfilment, shipped.Carrier, shipped.TrackingNo, shipped.ShippedAt = shop.FulfilShipped, "顺丰速运", "SF1", now
	partly := shipped
	partly.Status = shop.StatusPartiallyRefunded
	if partly.Stage() != shop.StageShipped {
		t.Fatalf("a partly refunded shipped order: %s", partly.Stage())
	}
	if tr, err := shop.DecideReceive(partly, now.Add(time.Hour)); err != nil || tr.To != shop.FulfilCompleted || tr.Event.Actor != shop.ActorBuyer {
		t.Fatalf("receive: %+v %v", tr, err)
	}
	_, err = shop.DecideAutoComplete(shipped, 48*time.Hour, now.Add(47*time.Hour))
	var nd *shop.ErrNotDue
	if !errors.As(err, &nd) || !nd.At.Equal(now.Add(48*time.Hour)) {
		t.Fatalf("auto-complete before its time: %v", err)
	}
	if tr, err := shop.DecideAutoComplete(shipped, 48*time.Hour, now.Add(48*time.Hour)); err != nil || tr.To != shop.FulfilCompleted || tr.Event.Actor != shop.ActorSystem {
		t.Fatalf("auto-complete: %+v %v", tr, err)
	}
	refunded := shipped
	refunded.Status = shop.StatusRefunded
	if refunded.Stage() != shop.StageRefunded {
		t.Fatalf("refunded: %s", refunded.Stage())
	}
	if tr, err := shop.DecideAutoComplete(refunded, time.Hour, now.Add(time.Hour)); err != nil || !tr.Repeat {
		t.Fatalf("auto-complete of a refunded order: %+v %v", tr, err)
	}
	if tr, err := shop.DecideShip(shipped, "顺丰速运", "SF1", 0, now); err != nil || !tr.Repeat {
		t.Fatalf("the same shipment again: %+v %v", tr, err)
	}
}

func TestCleanShipmentAndMaskPhone(t *testing.T) {
	t.Parallel()
	if c, n, err := shop.CleanShipment(" 顺丰速运 ", " sf-123456 "); err != nil || c != "顺丰速运" || n != "SF-123456" {
		t.Fatalf("%q %q %v", c, n, err)
	}
	for _, bad := range [][2]string{{"", "SF123456"}, {"顺丰", "SF 1"}, {"顺丰", "12"}, {"顺丰\x00", "SF123456"}, {"一二三四五六七八九十一二三四五六七八九十一", "SF123456"}} {
		if _, _, err := shop.CleanShipment(bad[0], bad[1]); shop.ErrorCode(err) != shop.EINVALID {
			t.Errorf("%q accepted", bad)
		}
	}
	if m := shop.MaskPhone("13812345678"); m != "138****5678" {
		t.Fatal(m)
	}
	if !shop.PhoneMatches("13812345678", "13812345678") || shop.PhoneMatches("", "") || shop.PhoneMatches("13812345678", "13812345679") {
		t.Fatal("PhoneMatches")
	}
	if !shop.IsPhoneQuery("13812345678") || shop.IsPhoneQuery("1381234567") || shop.IsPhoneQuery("23812345678") {
		t.Fatal("IsPhoneQuery")
	}
}
