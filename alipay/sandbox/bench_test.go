package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"alishop/alipay"
)

// BenchmarkGatewayQuery measures alipay.trade.query calls per second over
// real loopback HTTP: the server parses, verifies the RSA2 request signature,
// looks the trade up and signs the response. Requests are signed in advance
// (the gateway accepts any timestamp), so the load generator spends no RSA
// time of its own; it shares the machine's cores with the server.
//
//	cached:   repeated queries of 1,000 trades (same answer → cached signature)
//	uncached: every answer signed afresh (as for a query of a changing trade)
func BenchmarkGatewayQuery(b *testing.B) {
	for _, mode := range []string{"cached", "uncached"} {
		b.Run(mode, func(b *testing.B) {
			keys(b)
			clock := &fakeClock{t: t0}
			sb, err := New(Config{Now: clock.Now, AlipayKey: alipayKey})
			if err != nil {
				b.Fatal(err)
			}
			defer sb.Close()
			sb.noSigCache = mode == "uncached"
			if _, err := sb.RegisterAppWith(testAppID, &appKey.PublicKey, AppOptions{NotifyOn: []string{}}); err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(sb)
			defer srv.Close()
			const trades = 1000
			bodies := make([]string, trades)
			for i := range trades {
				out := fmt.Sprintf("bench%06d", i)
				sb.mu.Lock()
				t := &trade{AppID: testAppID, OutTradeNo: out, TradeNo: newTradeNo(t0), Method: "alipay.trade.precreate",
					Subject: "基准测试商品", TotalAmount: 8888, Status: alipay.TradeStatusWaitBuyerPay, Charset: "utf-8", Created: t0, Expire: t0.Add(time.Hour)}
				sb.indexTrade(t)
				_, err := sb.payTrade(t, DefaultBuyer, "", false, t0)
				sb.mu.Unlock()
				if err != nil {
					b.Fatal(err)
				}
				p := map[string]string{"app_id": testAppID, "method": "alipay.trade.query", "format": "JSON", "charset": "utf-8",
					"sign_type": "RSA2", "timestamp": alipay.FormatTime(t0), "version": "1.0", "biz_content": `{"out_trade_no":"` + out + `"}`}
				sig, err := alipay.Sign(appKey, alipay.SignTypeRSA2, alipay.SignContent(p, alipay.RuleV2))
				if err != nil {
					b.Fatal(err)
				}
				p["sign"] = sig
				bodies[i] = alipay.EncodeForm(p)
			}
			tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			if mode == "cached" { // the first answer of each trade is signed once
				for _, body := range bodies {
					resp, err := hc.Post(srv.URL+"/gateway.do?charset=utf-8", "application/x-www-form-urlencoded", strings.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			var next atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) % trades
					resp, err := hc.Post(srv.URL+"/gateway.do?charset=utf-8", "application/x-www-form-urlencoded", strings.NewReader(bodies[i]))
					if err != nil {
						b.Error(err)
						return
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !strings.Contains(string(body), `"code":"10000"`) {
						b.Errorf("query answered %s", body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// BenchmarkMemoryPer100kTrades reports the heap held by 100,000 paid
// page-pay trades (each with its subject, URLs, buyer and one refund).
func BenchmarkMemoryPer100kTrades(b *testing.B) {
	keys(b)
	for range b.N {
		sb, err := New(Config{Now: (&fakeClock{t: t0}).Now, AlipayKey: alipayKey})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sb.RegisterAppWith(testAppID, &appKey.PublicKey, AppOptions{NotifyOn: []string{}}); err != nil {
			b.Fatal(err)
		}
		before := heapInUse()
		const n = 100_000
		sb.mu.Lock()
		sb.accounts[DefaultBuyer].Balance = alipay.MaxAmount
		app := sb.apps[testAppID]
		for i := range n {
			// A page pay request as parsed from the wire: fresh strings.
			req := &gwReq{app: app, method: string([]byte("alipay.trade.page.pay")), charset: "utf-8", p: map[string]string{
				"notify_url": string([]byte("https://shop.example.com/alipay/notify")),
				"return_url": string([]byte("https://shop.example.com/alipay/return")),
			}}
			nt := &newTrade{outTradeNo: fmt.Sprintf("20260310%024d", i), subject: string([]byte("Go 语言程序设计 第 2 版")),
				product: string(alipay.ProductCodePagePay), total: 8888, expire: t0.Add(15 * 24 * time.Hour)}
			t, errNode := sb.openTrade(req, nt, t0)
			if errNode != nil {
				b.Fatal(errNode.subMsg)
			}
			t.ReturnURL = "" // no return_url signing in this loop
			if _, err := sb.payTrade(t, DefaultBuyer, "", false, t0); err != nil {
				b.Fatal(err)
			}
			t.ReturnURL = req.p["return_url"]
			sb.applyRefund(t, &refundRec{OutRequestNo: fmt.Sprintf("r%d", i), Amount: 100, At: t0})
		}
		sb.expireTrades(t0) // a worker tick: drops the expiry entries of the paid trades
		sb.mu.Unlock()
		after := heapInUse()
		b.ReportMetric(float64(after-before)/(1<<20), "MiB/100k-trades")
		b.ReportMetric(float64(after-before)/n, "B/trade")
		runtime.KeepAlive(sb)
		sb.Close()
	}
}

// BenchmarkSignRSA2 is the cost of one RSA-2048 SHA256withRSA signature,
// which bounds the uncached gateway throughput.
func BenchmarkSignRSA2(b *testing.B) {
	keys(b)
	content := []byte(`{"code":"10000","msg":"Success","out_trade_no":"bench000001","trade_status":"TRADE_SUCCESS"}`)
	for b.Loop() {
		if _, err := alipay.Sign(alipayKey, alipay.SignTypeRSA2, content); err != nil {
			b.Fatal(err)
		}
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
