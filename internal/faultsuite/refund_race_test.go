package faultsuite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
	"alishop/internal/shoptest"
	"alishop/internal/store"
	"alishop/internal/store/pgtest"
)

// TestRefundConfirmRaceTwoProcesses: two shop processes on one PostgreSQL
// database behind one Alipay. The same refund confirmation (step 1's key)
// is posted to both at once, for the whole amount of an order or for part
// of it: both answers are the order page (one the refund, the other the
// repeat), never an error, and Alipay makes the refund once.
func TestRefundConfirmRaceTwoProcesses(t *testing.T) {
	t.Parallel()
	dsn := pgtest.URL(t)
	h := newHarness(t, "--db", dsn)
	db, err := store.Open(h.ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := shop.Goods{Name: "退款竞争测试商品", Price: alipay.MustAmount("10.00"), CreatedAt: time.Now(), UpdatedAt: time.Now()}
	err = db.CreateGoods(h.ctx, &g)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	h.goodsID = g.ID

	addrB := shoptest.FreeAddrBeside(t, h.addr)
	b := h.spawn(addrB)
	t.Cleanup(func() {
		_ = b.Process.Signal(syscall.SIGTERM)
		_ = b.Wait()
	})
	shops := []string{h.shopURL, "http://" + addrB}

	const pairs = 12
	var nos []string
	for range pairs {
		no, err := h.order(true)
		if err != nil {
			t.Fatal(err)
		}
		h.pay(no)
		nos = append(nos, no)
	}
	for _, no := range nos {
		h.waitFor("order "+no+" paid", 30*time.Second, func() (bool, string) {
			st, err := h.apiOrder(no)
			return st == "paid", fmt.Sprint(st, err)
		})
	}
	admin := h.admin() // its cookie is sent to both processes (same host)

	made, repeats, bad := 0, 0, 0
	for i, no := range nos {
		amount := "10.00" // the whole order
		if i%2 == 1 {
			amount = "3.00"
		}
		form := url.Values{"amount": {amount}, "reason": {"竞争"}}
		resp, err := admin.PostForm(shops[i%2]+"/admin/orders/"+no+"/refunds", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := refundKey.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("step 1 for %s: HTTP %d\n%s", no, resp.StatusCode, body)
		}
		form.Set("key", string(m[1]))
		var wg sync.WaitGroup
		start := make(chan struct{})
		answers := make([]string, 2)
		for j, base := range shops {
			wg.Go(func() {
				<-start
				req, _ := http.NewRequestWithContext(context.Background(), "POST", base+"/admin/orders/"+no+"/refunds/confirm", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := admin.Do(req)
				if err != nil {
					answers[j] = err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				answers[j] = fmt.Sprintf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Location"))
				if resp.StatusCode != http.StatusSeeOther {
					answers[j] += fmt.Sprintf(" %.400s", body)
				}
			})
		}
		close(start)
		wg.Wait()
		first, again := 0, 0
		for _, a := range answers {
			switch {
			case !strings.HasPrefix(a, "HTTP 303 /admin/orders/"+no+"?refund="+string(m[1])):
				t.Errorf("order %s, %s yuan: a confirmation answered %s", no, amount, a)
				bad++
			case strings.HasSuffix(a, "&repeat=1"):
				again++
			default:
				first++
			}
		}
		if first != 1 || again != 1 {
			t.Errorf("order %s, %s yuan: answers %q; want one refund page and one repeat page", no, amount, answers)
		}
		made, repeats = made+first, repeats+again
		tv, ok := h.sb.Trade(h.app.AppID, no)
		if !ok || len(tv.Refunds) != 1 || tv.Refunds[0].OutRequestNo != string(m[1]) {
			t.Errorf("order %s: refunds at Alipay %+v, want the one of key %s", no, tv.Refunds, m[1])
		}
	}
	summary(t, "refund confirmations raced on two processes (PostgreSQL): %d pairs (whole and partial amounts), %d answered with the refund, %d with the repeat page, %d otherwise",
		pairs, made, repeats, bad)
}
