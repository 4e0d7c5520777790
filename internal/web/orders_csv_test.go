package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

// TestOrdersCSV: GET /admin/orders.csv is UTF-8 with a byte
// order mark, parses with encoding/csv, has the columns in order, and
// holds every order the filter selects, once, as stored: 1,000 orders over
// four Beijing days, exported whole and filtered by dates and by stage.
func TestOrdersCSV(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	day0 := time.Date(2026, 11, 28, 0, 0, 0, 0, alipay.Beijing)
	want := map[string]shop.Order{}
	for i := range 1000 {
		at := day0.Add(time.Duration(i) * 4 * 24 * time.Hour / 1000)
		o := shop.Order{OutTradeNo: fmt.Sprintf("csv%04d", i), GoodsID: h.goods.ID, CreatedAt: at, UpdatedAt: at, Quantity: 1 + i%3}
		if i%2 == 0 {
			o.Shipping = true
			o.Receiver = shop.Receiver{Name: fmt.Sprintf("王\"五\" %d", i), Phone: fmt.Sprintf("139%08d", i), Address: "北京市朝阳区, 建国路 " + fmt.Sprint(i) + " 号\n2 单元"}
			if i%10 == 0 {
				o.Receiver.Name = "=HYPERLINK(\"x\")"
			}
		}
		if err := h.db.CreateOrder(ctx, &o); err != nil {
			t.Fatal(err)
		}
		if i%4 != 3 {
			paidAt := at.Add(time.Minute)
			if _, err := h.db.Receive(ctx, &shop.Inbound{Source: shop.SourceQuery, ReceivedAt: paidAt, OutTradeNo: o.OutTradeNo, Verified: true, Body: []byte(o.OutTradeNo)},
				func(o *shop.Order, _ *shop.Refund) shop.Decision {
					return shop.Decision{Outcome: shop.OutcomeApplied, Pay: &shop.Payment{OutTradeNo: o.OutTradeNo, TradeNo: "T" + o.OutTradeNo, Amount: o.Amount, PaidAt: paidAt, Via: "query"}}
				}); err != nil {
				t.Fatal(err)
			}
		}
		if i%8 == 0 {
			if _, err := h.svc.Ship(ctx, o.OutTradeNo, "顺丰速运", fmt.Sprintf("SF%06d", i)); err != nil {
				t.Fatal(err)
			}
		}
		want[o.OutTradeNo] = h.order(o.OutTradeNo)
	}
	admin := h.login()
	export := func(query string) [][]string {
		t.Helper()
		resp, body := h.get("/admin/orders.csv"+query, admin)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="orders-`) {
			t.Fatalf("export %s: %s %s", query, resp.Status, resp.Header)
		}
		if !strings.HasPrefix(body, "\xEF\xBB\xBF") {
			t.Fatalf("export %s has no byte order mark", query)
		}
		r := csv.NewReader(bytes.NewReader([]byte(body[3:])))
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("export %s: %v", query, err)
		}
		if !slices.Equal(rows[0], []string{"订单号", "支付宝交易号", "下单时间", "付款时间", "商品", "数量", "金额（元）", "已退款（元）", "状态",
			"收货人", "手机号", "收货地址", "快递公司", "运单号", "下单方式"}) {
			t.Fatalf("header row %q", rows[0])
		}
		return rows[1:]
	}
	check := func(query string, selects func(shop.Order) bool) {
		t.Helper()
		rows := export(query)
		seen := map[string]bool{}
		for _, row := range rows {
			o, ok := want[row[0]]
			if !ok || seen[row[0]] || !selects(o) {
				t.Fatalf("export %s: row %q (known %v, again %v)", query, row, ok, seen[row[0]])
			}
			seen[row[0]] = true
			name := o.Receiver.Name
			if strings.HasPrefix(name, "=") {
				name = "'" + name
			}
			paid := ""
			if !o.PaidAt.IsZero() {
				paid = o.PaidAt.In(alipay.Beijing).Format("2006-01-02 15:04:05")
			}
			wantRow := []string{o.OutTradeNo, o.TradeNo, o.CreatedAt.In(alipay.Beijing).Format("2006-01-02 15:04:05"), paid, o.Subject,
				fmt.Sprint(o.Quantity), o.Amount.String(), o.RefundedFen.String(), o.Stage().Label(), name, o.Receiver.Phone, o.Receiver.Address, o.Carrier, o.TrackingNo, "网上下单"}
			if !slices.Equal(row, wantRow) {
				t.Fatalf("export %s: row\n%q\nwant\n%q", query, row, wantRow)
			}
		}
		n := 0
		for _, o := range want {
			if selects(o) {
				n++
			}
		}
		if len(seen) != n {
			t.Fatalf("export %s: %d orders, want %d", query, len(seen), n)
		}
		t.Logf("export %s: %d orders", query, n)
	}
	check("", func(shop.Order) bool { return true })
	day1, day3 := day0.AddDate(0, 0, 1), day0.AddDate(0, 0, 3)
	check("?from=2026-11-29&to=2026-11-30", func(o shop.Order) bool { return !o.CreatedAt.Before(day1) && o.CreatedAt.Before(day3) })
	check("?status=to_ship&from=2026-11-28&to=2026-11-28", func(o shop.Order) bool {
		return o.Stage() == shop.StageToShip && o.CreatedAt.Before(day1)
	})
	check("?status=shipped", func(o shop.Order) bool { return o.Stage() == shop.StageShipped })
	check("?status=unpaid", func(o shop.Order) bool { return o.Status == shop.StatusUnpaid })
	// Bad filters are refused before anything is written; without a login
	// there is no export.
	if resp, _ := h.get("/admin/orders.csv?from=2026-13-01", admin); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad date: %s", resp.Status)
	}
	if resp, _ := h.get("/admin/orders.csv?status=lost", admin); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad status: %s", resp.Status)
	}
	if resp, _ := h.get("/admin/orders.csv"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("export without login: %s", resp.Status)
	}
}
