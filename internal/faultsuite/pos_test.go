package faultsuite

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/shop"
)

// posKey is the one-time key of the 当面付收款 form.
var posKey = regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`)

// posCharge fills 当面付收款 with a fresh payment code of the sandbox's
// buyer and posts it; it returns the order number the shop redirects to.
func (h *harness) posCharge(c *http.Client, amount string) (string, error) {
	resp, err := c.Get(h.shopURL + "/admin/pos")
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := posKey.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("GET /admin/pos: HTTP %d, no form key", resp.StatusCode)
	}
	pc, err := h.sb.IssuePayCode("")
	if err != nil {
		return "", err
	}
	resp, err = c.PostForm(h.shopURL+"/admin/pos", url.Values{"key": {string(m[1])}, "amount": {amount}, "subject": {"柜台收款"}, "auth_code": {pc.AuthCode}})
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/pos/") {
		return "", fmt.Errorf("POST /admin/pos: HTTP %d to %q", resp.StatusCode, loc)
	}
	return strings.TrimPrefix(loc, "/admin/pos/"), nil
}

// buyerBalance is the sandbox buyer's balance (api/accounts).
func (h *harness) buyerBalance() alipay.Amount {
	h.t.Helper()
	resp, err := http.Get(h.sbURL + "/api/accounts")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Accounts []struct {
			Login   string        `json:"login"`
			Balance alipay.Amount `json:"balance"`
		} `json:"accounts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		h.t.Fatal(err)
	}
	for _, a := range v.Accounts {
		if a.Login == sandbox.DefaultBuyer {
			return a.Balance
		}
	}
	h.t.Fatalf("no buyer %s at the sandbox", sandbox.DefaultBuyer)
	return 0
}

// chargedWithoutOrder counts the sandbox's trades of the shop that took
// the buyer's money (paid, not refunded in full) and have no order at the
// shop.
func (h *harness) chargedWithoutOrder() int {
	h.t.Helper()
	resp, err := http.Get(h.sbURL + "/api/trades?app_id=" + h.app.AppID)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Trades []sandbox.TradeView `json:"trades"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		h.t.Fatal(err)
	}
	db := h.openDB()
	defer db.Close()
	n := 0
	for _, tv := range v.Trades {
		if tv.GmtPayment == "" || tv.RefundFee == tv.TotalAmount {
			continue
		}
		if _, err := db.Order(h.ctx, tv.OutTradeNo); err != nil {
			n++
			h.t.Errorf("trade %s charged %s with no order at the shop: %v", tv.OutTradeNo, tv.TotalAmount, err)
		}
	}
	return n
}

// Scenario 8: 当面付 at the counter, the shop SIGKILLed while a ¥2,500
// payment (above the buyer's no-password limit) waits for the buyer to
// confirm, its counter page no longer following it, and notifications
// dropped (only the shop's own queries can learn the outcome). The buyer
// confirms while the shop is down → after the restart the order is paid;
// the buyer never confirms → after the restart the trade is cancelled at
// Alipay (alipay.trade.cancel, action close) and the order closed, the
// buyer's balance unchanged. A third run kills the shop while its
// alipay.trade.pay is on its way (the sandbox answers ¥12.00 after 2 s):
// the order, stored before the call, ends as the trade does. In every run
// no trade took money without an order.
func TestScenario8CounterKilled(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		amount  string
		confirm bool
		inCall  bool
	}{
		{"buyer confirms while down", "2500.00", true, false},
		{"buyer never confirms", "2500.00", false, false},
		{"killed during trade.pay", "12.00", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "--pos-wait", "10s", "--reconcile-after", "1h", "--expire-grace", "1s",
				"--retry-unknown", "1s", "--jobs-poll", "200ms", "--sweep-every", "500ms")
			h.faults(sandbox.Fault{Kind: sandbox.KindDrop})
			before := h.buyerBalance()
			admin := h.admin()
			var no string
			if c.inCall {
				h.faults(sandbox.Fault{Kind: sandbox.KindLatency, Method: "alipay.trade.pay", Delay: sandbox.Duration(2 * time.Second), Count: 1})
				done := make(chan struct{})
				go func() {
					defer close(done)
					h.posCharge(admin, c.amount) // cut off by the kill
				}()
				db := h.openDB()
				h.waitFor("the counter order stored", 10*time.Second, func() (bool, string) {
					orders, _, err := db.ListOrders(h.ctx, shop.OrderFilter{Limit: 1})
					if err != nil || len(orders) == 0 {
						return false, fmt.Sprint(err)
					}
					no = orders[0].OutTradeNo
					return true, ""
				})
				db.Close()
				h.kill()
				<-done
			} else {
				var err error
				if no, err = h.posCharge(admin, c.amount); err != nil {
					t.Fatal(err)
				}
				if tv, ok := h.sb.Trade(h.app.AppID, no); !ok || tv.TradeStatus != string(alipay.TradeStatusWaitBuyerPay) {
					t.Fatalf("trade %s before the kill: %+v; want WAIT_BUYER_PAY", no, tv)
				}
				h.kill()
				if c.confirm {
					h.pay(no)
				}
			}
			h.start()
			want := shop.StatusClosed
			switch {
			case c.confirm:
				want = shop.StatusPaid
			case c.inCall:
				// The sandbox handled the call after the kill cut it off (or
				// not): the order must end as the trade did.
				h.waitFor("the trade of the call cut off to settle", 10*time.Second, func() (bool, string) {
					tv, ok := h.sb.Trade(h.app.AppID, no)
					return !ok || tv.TradeStatus != string(alipay.TradeStatusWaitBuyerPay), fmt.Sprint(tv.TradeStatus)
				})
				if tv, ok := h.sb.Trade(h.app.AppID, no); ok && tv.GmtPayment != "" {
					want = shop.StatusPaid
				}
			}
			h.waitFor("the counter order to settle", 90*time.Second, func() (bool, string) {
				st, err := h.apiOrder(no)
				return err == nil && st == string(want), fmt.Sprint(st, err)
			})
			tv, ok := h.sb.Trade(h.app.AppID, no)
			spent := before - h.buyerBalance()
			switch want {
			case shop.StatusPaid:
				if !ok || tv.TradeStatus != string(alipay.TradeStatusSuccess) || spent != alipay.MustAmount(c.amount) {
					t.Errorf("paid order %s: trade %+v, buyer spent %s; want TRADE_SUCCESS, %s", no, tv, spent, c.amount)
				}
			default:
				if ok && (tv.TradeStatus != string(alipay.TradeStatusClosed) || tv.CancelAction != "close") || spent != 0 {
					t.Errorf("closed order %s: trade %+v, buyer spent %s; want cancelled (close) or no trade, nothing spent", no, tv, spent)
				}
			}
			if n := h.chargedWithoutOrder(); n != 0 {
				t.Errorf("%d trades charged without an order", n)
			}
			r := h.check()
			r.must(t)
			summary(t, "scenario 8 (%s): order %s %s, trade %q (cancel %q), buyer charged %s, %d charged without an order",
				c.name, no, want, tv.TradeStatus, tv.CancelAction, spent, 0)
		})
	}
}
