package alipay_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"alishop/alipay"
	"alishop/alipay/sandbox"
)

// fundEnv is the offline gateway with one app and its client over one
// protocol, in key or certificate mode, recording Config.OnCall reports.
type fundEnv struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	c      *alipay.Client
	seller string

	mu    sync.Mutex
	calls []string
}

func newFundEnv(t *testing.T, api alipay.API, certs bool) *fundEnv {
	t.Helper()
	appKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_0.pem")
	if err != nil {
		t.Fatal(err)
	}
	alipayKey, err := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Config{AlipayKey: alipayKey})
	if err != nil {
		t.Fatal(err)
	}
	e := &fundEnv{t: t, sb: sb, srv: httptest.NewServer(sb)}
	t.Cleanup(func() { e.srv.Close(); sb.Close() })
	app, err := sb.RegisterAppWith(v3AppID, &appKey.PublicKey, sandbox.AppOptions{CertMode: certs})
	if err != nil {
		t.Fatal(err)
	}
	e.seller = app.SellerID
	cfg := alipay.Config{AppID: v3AppID, PrivateKey: appKey, API: api, Gateway: e.srv.URL + "/gateway.do",
		OnCall: func(r alipay.CallReport) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.calls = append(e.calls, r.Method+":"+r.Outcome.String())
		}}
	if certs {
		b, err := sb.Certificates(v3AppID)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Certificates, err = alipay.ParseCertificates([]byte(b.AppCert), []byte(b.AlipayCert), []byte(b.AlipayRootCert)); err != nil {
			t.Fatal(err)
		}
	} else {
		cfg.AlipayPublicKey = sb.PublicKey()
	}
	if e.c, err = alipay.New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// matrix runs fn over v2 and v3, each in key and certificate mode.
func fundMatrix(t *testing.T, fn func(t *testing.T, e *fundEnv)) {
	for _, api := range []alipay.API{alipay.APIv2, alipay.APIv3} {
		for _, certs := range []bool{false, true} {
			t.Run(string(api)+"-"+map[bool]string{false: "key", true: "cert"}[certs], func(t *testing.T) {
				t.Parallel()
				fn(t, newFundEnv(t, api, certs))
			})
		}
	}
}

// pay opens a trade for buyer and pays it through the control API; it
// returns the trade_no.
func (e *fundEnv) pay(outTradeNo string, amount alipay.Amount, buyer string) string {
	e.t.Helper()
	uid := map[string]string{sandbox.DefaultBuyer: "2088102177846880", sandbox.PoorBuyer: "2088102177846881"}[buyer]
	cr, err := e.c.TradeCreate(e.t.Context(), alipay.TradeCreateRequest{OutTradeNo: outTradeNo, TotalAmount: amount, Subject: "资金测试", BuyerID: uid})
	if err != nil {
		e.t.Fatalf("create %s: %v", outTradeNo, err)
	}
	if _, err := e.sb.Pay(v3AppID, outTradeNo, buyer); err != nil {
		e.t.Fatalf("pay %s: %v", outTradeNo, err)
	}
	return cr.TradeNo
}

func (e *fundEnv) fault(rule string) {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/api/faults", "application/json", strings.NewReader(rule))
	if err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("fault %s: %v %v", rule, resp, err)
	}
	resp.Body.Close()
}

func (e *fundEnv) callLog() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.calls, " ")
}

// balances reads GET api/balances: each account's balance and the balance
// recomputed from the records, by app id and by login.
func (e *fundEnv) balances() map[string][2]alipay.Amount {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + "/api/balances")
	if err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("api/balances: %v %v", resp, err)
	}
	defer resp.Body.Close()
	var b sandbox.Balances
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		e.t.Fatal(err)
	}
	out := map[string][2]alipay.Amount{}
	for _, m := range b.Merchants {
		out[m.AppID] = [2]alipay.Amount{alipay.MustAmount(m.Balance), alipay.MustAmount(m.Movements)}
	}
	for _, u := range b.Buyers {
		out[u.Login] = [2]alipay.Amount{alipay.MustAmount(u.Balance), alipay.MustAmount(u.Movements)}
	}
	return out
}

// wantBalance fails unless the account's balance, and the balance
// recomputed from its movements, are want.
func (e *fundEnv) wantBalance(who string, want alipay.Amount) {
	e.t.Helper()
	got := e.balances()[who]
	if got[0] != want || got[1] != want {
		e.t.Fatalf("%s: balance %v, from movements %v; want %v", who, got[0], got[1], want)
	}
}

var defaultPayee = alipay.Participant{Identity: sandbox.DefaultBuyer, IdentityType: alipay.IdentityLogonID, Name: sandbox.DefaultBuyerName}

// Transfers, account and balance queries against the offline gateway:
// success, each refusal, a repeat by out_biz_no, and the query.
func TestFundTransferAgainstSandbox(t *testing.T) {
	t.Parallel()
	fundMatrix(t, func(t *testing.T, e *fundEnv) {
		ctx := t.Context()
		buyerStart := e.balances()[sandbox.DefaultBuyer][0]
		if _, err := e.c.FundTransUniTransfer(ctx, alipay.FundTransUniTransferRequest{OutBizNo: "t0", TransAmount: 100, Payee: defaultPayee}); !alipay.HasSubCode(err, alipay.SubCodePayerBalanceNotEnough) {
			t.Fatalf("a transfer from an empty account: %v", err)
		}
		e.pay("p1", 100_00, sandbox.DefaultBuyer)
		acct, err := e.c.FundAccountQuery(ctx, alipay.FundAccountQueryRequest{AlipayUserID: e.seller})
		if err != nil || acct.AvailableAmount != 100_00 || acct.FreezeAmount != 0 {
			t.Fatalf("account query: %+v %v", acct, err)
		}
		bal, err := e.c.DataBillBalanceQuery(ctx, alipay.DataBillBalanceQueryRequest{})
		if err != nil || bal.TotalAmount != 100_00 || bal.AvailableAmount != 100_00 {
			t.Fatalf("bill balance query: %+v %v", bal, err)
		}
		req := alipay.FundTransUniTransferRequest{OutBizNo: "t1", TransAmount: 10_00, Payee: defaultPayee, OrderTitle: "补偿"}
		r1, err := e.c.FundTransUniTransfer(ctx, req)
		if err != nil || r1.Status != alipay.TransferStatusSuccess || r1.OrderID == "" || r1.PayFundOrderID == "" || r1.TransDate.IsZero() || r1.OutBizNo != "t1" {
			t.Fatalf("transfer: %+v %v", r1, err)
		}
		r2, err := e.c.FundTransUniTransfer(ctx, req)
		if err != nil || r2.OrderID != r1.OrderID || !r2.TransDate.Equal(r1.TransDate) {
			t.Fatalf("the repeat answers the first transfer: %+v %v", r2, err)
		}
		other := req
		other.TransAmount = 11_00
		if _, err := e.c.FundTransUniTransfer(ctx, other); !alipay.HasSubCode(err, alipay.SubCodePaymentInfoInconsistency) || alipay.OutcomeOf(err) != alipay.OutcomeBusinessError {
			t.Fatalf("the same out_biz_no with another amount: %v", err)
		}
		for _, c := range []struct {
			payee alipay.Participant
			amt   alipay.Amount
			sub   alipay.SubCode
		}{
			{alipay.Participant{Identity: "nobody@sandbox.com", IdentityType: alipay.IdentityLogonID, Name: "无名"}, 100, alipay.SubCodePayeeNotExist},
			{alipay.Participant{Identity: "2088000000000001", IdentityType: alipay.IdentityUserID}, 100, alipay.SubCodePayeeNotExist},
			{alipay.Participant{Identity: sandbox.DefaultBuyer, IdentityType: alipay.IdentityLogonID, Name: "张三"}, 100, alipay.SubCodePayeeUserInfoError},
			{defaultPayee, 90_01, alipay.SubCodePayerBalanceNotEnough},
		} {
			_, err := e.c.FundTransUniTransfer(ctx, alipay.FundTransUniTransferRequest{OutBizNo: "bad-" + string(c.sub), TransAmount: c.amt, Payee: c.payee})
			if !alipay.HasSubCode(err, c.sub) {
				t.Fatalf("%+v: %v, want %s", c.payee, err, c.sub)
			}
		}
		// What the client refuses to send, through Call: below the minimum;
		// payee_info as a JSON string, as older samples send it.
		raw := map[string]any{"out_biz_no": "tiny", "trans_amount": "0.05", "product_code": "TRANS_ACCOUNT_NO_PWD", "biz_scene": "DIRECT_TRANSFER",
			"payee_info": map[string]string{"identity": sandbox.DefaultBuyer, "identity_type": "ALIPAY_LOGON_ID", "name": sandbox.DefaultBuyerName}}
		if _, err := e.c.Call(ctx, alipay.CallRequest{Method: "alipay.fund.trans.uni.transfer", Biz: raw}, nil); !alipay.HasSubCode(err, alipay.SubCodeTransferMinAmount) {
			t.Fatalf("a transfer of 0.05: %v", err)
		}
		raw["trans_amount"], raw["out_biz_no"], raw["payee_info"] = "1", "as-string", `{"identity":"2088102177846880","identity_type":"ALIPAY_USER_ID"}`
		var got struct {
			Status string `json:"status"`
		}
		if _, err := e.c.Call(ctx, alipay.CallRequest{Method: "alipay.fund.trans.uni.transfer", Biz: raw}, &got); err != nil || got.Status != "SUCCESS" {
			t.Fatalf("payee_info as a JSON string: %+v %v", got, err)
		}
		// By user id, without a name: no name check.
		if r, err := e.c.FundTransUniTransfer(ctx, alipay.FundTransUniTransferRequest{OutBizNo: "t2", TransAmount: 5_00,
			Payee: alipay.Participant{Identity: "2088102177846880", IdentityType: alipay.IdentityUserID}}); err != nil || r.Status != alipay.TransferStatusSuccess {
			t.Fatalf("transfer by user id: %+v %v", r, err)
		}
		q, err := e.c.FundTransCommonQuery(ctx, alipay.FundTransCommonQueryRequest{OutBizNo: "t1"})
		if err != nil || q.Status != alipay.TransferStatusSuccess || q.OrderID != r1.OrderID || q.TransAmount != 10_00 || q.PayDate.IsZero() {
			t.Fatalf("query by out_biz_no: %+v %v", q, err)
		}
		if q, err := e.c.FundTransCommonQuery(ctx, alipay.FundTransCommonQueryRequest{OrderID: r1.OrderID}); err != nil || q.OutBizNo != "t1" {
			t.Fatalf("query by order_id: %+v %v", q, err)
		}
		if _, err := e.c.FundTransCommonQuery(ctx, alipay.FundTransCommonQueryRequest{OutBizNo: "never"}); !alipay.HasSubCode(err, alipay.SubCodeOrderNotExist) {
			t.Fatalf("query of a transfer never made: %v", err)
		}
		if _, err := e.c.FundAccountQuery(ctx, alipay.FundAccountQueryRequest{AlipayUserID: "2088102177846880"}); alipay.OutcomeOf(err) != alipay.OutcomeBusinessError {
			t.Fatalf("another account's balance: %v", err)
		}
		e.wantBalance(v3AppID, 100_00-10_00-5_00-1_00)
		e.wantBalance(sandbox.DefaultBuyer, buyerStart-100_00+10_00+5_00+1_00)
		if log := e.callLog(); !strings.Contains(log, "alipay.fund.trans.uni.transfer:ok") || !strings.Contains(log, "alipay.fund.trans.uni.transfer:business_error") ||
			!strings.Contains(log, "alipay.fund.trans.common.query:ok") || !strings.Contains(log, "alipay.fund.account.query:ok") || !strings.Contains(log, "alipay.data.bill.balance.query:ok") {
			t.Fatalf("OnCall reports: %s", log)
		}
	})
}

// 分账 against the offline gateway: receivers bound first, a settlement
// within what the trade allows, repeats, refusals, the query, unbinding.
func TestRoyaltySettleAgainstSandbox(t *testing.T) {
	t.Parallel()
	fundMatrix(t, func(t *testing.T, e *fundEnv) {
		ctx := t.Context()
		poorStart := e.balances()[sandbox.PoorBuyer][0]
		tradeNo := e.pay("s1", 100_00, sandbox.DefaultBuyer)
		poor := alipay.RoyaltyReceiver{Type: alipay.RoyaltyLoginName, Account: sandbox.PoorBuyer, Name: sandbox.PoorBuyerName, Memo: "合作方"}
		settle := alipay.TradeOrderSettleRequest{OutRequestNo: "st1", TradeNo: tradeNo,
			Royalties: []alipay.RoyaltyParameter{{TransIn: "2088102177846881", TransInType: alipay.RoyaltyUserID, Amount: 20_00, Desc: "分成"}}}
		if _, err := e.c.TradeOrderSettle(ctx, settle); !alipay.HasSubCode(err, alipay.SubCodeRoyaltyReceiverInvalid) {
			t.Fatalf("a settlement to a receiver not bound: %v", err)
		}
		if _, err := e.c.TradeRoyaltyRelationBind(ctx, alipay.TradeRoyaltyRelationBindRequest{OutRequestNo: "b0",
			Receivers: []alipay.RoyaltyReceiver{{Type: alipay.RoyaltyLoginName, Account: "nobody@sandbox.com", Name: "无名"}}}); !alipay.HasSubCode(err, alipay.SubCodeUserNotExist) {
			t.Fatalf("binding an unknown account: %v", err)
		}
		if r, err := e.c.TradeRoyaltyRelationBind(ctx, alipay.TradeRoyaltyRelationBindRequest{OutRequestNo: "b1", Receivers: []alipay.RoyaltyReceiver{poor}}); err != nil || r.ResultCode != "SUCCESS" {
			t.Fatalf("bind: %+v %v", r, err)
		}
		bq, err := e.c.TradeRoyaltyRelationBatchQuery(ctx, alipay.TradeRoyaltyRelationBatchQueryRequest{OutRequestNo: "q1"})
		if err != nil || bq.TotalRecordNum != 1 || len(bq.Receivers) != 1 || bq.Receivers[0].Account != "2088102177846881" || bq.Receivers[0].Type != alipay.RoyaltyUserID || bq.CurrentPageNum != 1 {
			t.Fatalf("batchquery: %+v %v", bq, err)
		}
		s1, err := e.c.TradeOrderSettle(ctx, settle)
		if err != nil || s1.SettleNo == "" || s1.TradeNo != tradeNo {
			t.Fatalf("settle: %+v %v", s1, err)
		}
		if s2, err := e.c.TradeOrderSettle(ctx, settle); err != nil || s2.SettleNo != s1.SettleNo {
			t.Fatalf("the repeat answers the first settlement: %+v %v", s2, err)
		}
		other := settle
		other.Royalties = []alipay.RoyaltyParameter{{TransIn: sandbox.PoorBuyer, TransInType: alipay.RoyaltyLoginName, Amount: 30_00}}
		if _, err := e.c.TradeOrderSettle(ctx, other); !alipay.HasSubCode(err, alipay.SubCodeDiscordantRepeatRequest) {
			t.Fatalf("the same out_request_no with other royalties: %v", err)
		}
		// A refund leaves 100 - 20 - 50 = 30 to settle.
		if _, err := e.c.TradeRefund(ctx, alipay.TradeRefundRequest{TradeNo: tradeNo, RefundAmount: 80_01, OutRequestNo: "rf0"}); !alipay.HasSubCode(err, "ACQ.REASON_TRADE_REFUND_FEE_ERR") {
			t.Fatalf("a refund of more than paid less settled: %v", err)
		}
		if _, err := e.c.TradeRefund(ctx, alipay.TradeRefundRequest{TradeNo: tradeNo, RefundAmount: 50_00, OutRequestNo: "rf1"}); err != nil {
			t.Fatal(err)
		}
		over := alipay.TradeOrderSettleRequest{OutRequestNo: "st2", TradeNo: tradeNo, Royalties: []alipay.RoyaltyParameter{{TransIn: sandbox.PoorBuyer, TransInType: alipay.RoyaltyLoginName, Amount: 30_01}}}
		if _, err := e.c.TradeOrderSettle(ctx, over); !alipay.HasSubCode(err, alipay.SubCodeAllocAmountValidateError) {
			t.Fatalf("settling more than the trade allows: %v", err)
		}
		over.Royalties[0].Amount = 30_00
		if _, err := e.c.TradeOrderSettle(ctx, over); err != nil {
			t.Fatalf("settling the rest: %v", err)
		}
		if _, err := e.c.TradeOrderSettle(ctx, alipay.TradeOrderSettleRequest{OutRequestNo: "st3", TradeNo: "2024010122001000000000000000",
			Royalties: settle.Royalties}); !alipay.IsTradeNotExist(err) {
			t.Fatalf("settling an unknown trade: %v", err)
		}
		q, err := e.c.TradeOrderSettleQuery(ctx, alipay.TradeOrderSettleQueryRequest{SettleNo: s1.SettleNo})
		if err != nil || q.OutRequestNo != "st1" || q.OperationDt.IsZero() || len(q.Details) != 1 || q.Details[0].Amount != 20_00 ||
			q.Details[0].State != "SUCCESS" || q.Details[0].TransIn != "2088102177846881" || q.Details[0].TransOut != e.seller || q.Details[0].ExecuteDt.IsZero() {
			t.Fatalf("settle query: %+v %v", q, err)
		}
		if q, err := e.c.TradeOrderSettleQuery(ctx, alipay.TradeOrderSettleQueryRequest{OutRequestNo: "st2", TradeNo: tradeNo}); err != nil || len(q.Details) != 1 || q.Details[0].Amount != 30_00 {
			t.Fatalf("settle query by out_request_no: %+v %v", q, err)
		}
		if _, err := e.c.TradeOrderSettleQuery(ctx, alipay.TradeOrderSettleQueryRequest{OutRequestNo: "never", TradeNo: tradeNo}); !alipay.IsSettleNotExist(err) {
			t.Fatalf("query of a settlement never made: %v", err)
		}
		if _, err := e.c.TradeRoyaltyRelationUnbind(ctx, alipay.TradeRoyaltyRelationUnbindRequest{OutRequestNo: "u1",
			Receivers: []alipay.RoyaltyReceiver{{Type: alipay.RoyaltyUserID, Account: "2088102177846881"}}}); err != nil {
			t.Fatal(err)
		}
		if bq, err := e.c.TradeRoyaltyRelationBatchQuery(ctx, alipay.TradeRoyaltyRelationBatchQueryRequest{OutRequestNo: "q2"}); err != nil || bq.TotalRecordNum != 0 || len(bq.Receivers) != 0 {
			t.Fatalf("batchquery after unbinding: %+v %v", bq, err)
		}
		tradeNo2 := e.pay("s2", 10_00, sandbox.DefaultBuyer)
		if _, err := e.c.TradeOrderSettle(ctx, alipay.TradeOrderSettleRequest{OutRequestNo: "st4", TradeNo: tradeNo2, Royalties: settle.Royalties}); !alipay.HasSubCode(err, alipay.SubCodeRoyaltyReceiverInvalid) {
			t.Fatalf("a settlement to an unbound receiver: %v", err)
		}
		e.wantBalance(v3AppID, 110_00-50_00-20_00-30_00)
		e.wantBalance(sandbox.PoorBuyer, poorStart+50_00)
		if log := e.callLog(); !strings.Contains(log, "alipay.trade.order.settle:ok") || !strings.Contains(log, "alipay.trade.royalty.relation.bind:ok") ||
			!strings.Contains(log, "alipay.trade.order.settle.query:business_error") {
			t.Fatalf("OnCall reports: %s", log)
		}
	})
}

// A transfer and a settlement whose answers are lost (20000, SYSTEM_ERROR,
// a dropped connection), with the effect committed at the sandbox or not:
// each is settled by its query and a repeat with the same merchant number
// pays once, never twice.
func TestFundUnknownOutcomeAgainstSandbox(t *testing.T) {
	t.Parallel()
	fundMatrix(t, func(t *testing.T, e *fundEnv) {
		ctx := t.Context()
		e.pay("u1", 1000_00, sandbox.DefaultBuyer)
		start := e.balances()[sandbox.DefaultBuyer][0]
		var paid alipay.Amount
		for i, fault := range []string{"20000", "ACQ.SYSTEM_ERROR", "timeout"} {
			for _, effect := range []string{"committed", "none"} {
				no := fmt.Sprintf("lost-%d-%s", i, effect)
				e.fault(`{"kind":"gateway_error","method":"alipay.fund.trans.uni.transfer","error":"` + fault + `","effect":"` + effect + `","count":1,"delay":"20ms"}`)
				req := alipay.FundTransUniTransferRequest{OutBizNo: no, TransAmount: 1_00, Payee: defaultPayee}
				_, err := e.c.FundTransUniTransfer(ctx, req)
				if !alipay.IsUnknownOutcome(err) {
					t.Fatalf("%s/%s: %v, want an unknown outcome", fault, effect, err)
				}
				q, qerr := e.c.FundTransCommonQuery(ctx, alipay.FundTransCommonQueryRequest{OutBizNo: no})
				switch {
				case effect == "committed" && (qerr != nil || q.Status != alipay.TransferStatusSuccess):
					t.Fatalf("%s: a committed transfer queries %+v %v", fault, q, qerr)
				case effect == "none" && !alipay.HasSubCode(qerr, alipay.SubCodeOrderNotExist):
					t.Fatalf("%s: a transfer never made queries %+v %v", fault, q, qerr)
				}
				// Whatever the query said, the same request again is safe.
				r, err := e.c.FundTransUniTransfer(ctx, req)
				if err != nil || r.Status != alipay.TransferStatusSuccess || (q != nil && r.OrderID != q.OrderID) {
					t.Fatalf("%s/%s: the repeat: %+v %v (query %+v)", fault, effect, r, err, q)
				}
				paid += req.TransAmount
				e.wantBalance(sandbox.DefaultBuyer, start+paid)
			}
		}
		// A settlement whose answer is lost.
		tradeNo := e.pay("u2", 10_00, sandbox.DefaultBuyer)
		paid -= 10_00
		if _, err := e.c.TradeRoyaltyRelationBind(ctx, alipay.TradeRoyaltyRelationBindRequest{OutRequestNo: "b1",
			Receivers: []alipay.RoyaltyReceiver{{Type: alipay.RoyaltyLoginName, Account: sandbox.DefaultBuyer, Name: sandbox.DefaultBuyerName}}}); err != nil {
			t.Fatal(err)
		}
		e.fault(`{"kind":"gateway_error","method":"alipay.trade.order.settle","error":"20000","count":1}`)
		settle := alipay.TradeOrderSettleRequest{OutRequestNo: "st1", TradeNo: tradeNo,
			Royalties: []alipay.RoyaltyParameter{{TransIn: sandbox.DefaultBuyer, TransInType: alipay.RoyaltyLoginName, Amount: 4_00}}}
		if _, err := e.c.TradeOrderSettle(ctx, settle); !alipay.IsUnknownOutcome(err) {
			t.Fatalf("settle: %v, want an unknown outcome", err)
		}
		q, err := e.c.TradeOrderSettleQuery(ctx, alipay.TradeOrderSettleQueryRequest{OutRequestNo: "st1", TradeNo: tradeNo})
		if err != nil || len(q.Details) != 1 || q.Details[0].Amount != 4_00 {
			t.Fatalf("settle query: %+v %v", q, err)
		}
		if _, err := e.c.TradeOrderSettle(ctx, settle); err != nil {
			t.Fatal(err)
		}
		paid += 4_00
		e.wantBalance(sandbox.DefaultBuyer, start+paid)
		if log := e.callLog(); !strings.Contains(log, "alipay.fund.trans.uni.transfer:unknown") || !strings.Contains(log, "alipay.fund.trans.uni.transfer:transport_error") {
			t.Fatalf("OnCall reports: %s", log)
		}
	})
}

// A scripted day at the offline gateway: payments by two buyers, partial
// and full refunds, a deposit, transfers, settlements and refused calls.
// Afterwards every account's balance is its opening balance plus the sum
// of the movements the script made, and the sandbox's own recomputation
// from its records agrees.
func TestBalancesAddUpAfterADay(t *testing.T) {
	t.Parallel()
	e := newFundEnv(t, alipay.APIv2, false)
	ctx := t.Context()
	open := e.balances()
	want := map[string]alipay.Amount{v3AppID: 0, sandbox.DefaultBuyer: open[sandbox.DefaultBuyer][0], sandbox.PoorBuyer: open[sandbox.PoorBuyer][0]}
	move := func(from, to string, a alipay.Amount) { want[from] -= a; want[to] += a }

	trades := map[string]string{}
	for i, p := range []struct {
		buyer string
		amt   alipay.Amount
	}{{sandbox.DefaultBuyer, 128_00}, {sandbox.DefaultBuyer, 59_90}, {sandbox.PoorBuyer, 80}, {sandbox.DefaultBuyer, 2_345_67}, {sandbox.DefaultBuyer, 10}} {
		no := fmt.Sprintf("day-%d", i)
		trades[no] = e.pay(no, p.amt, p.buyer)
		move(p.buyer, v3AppID, p.amt)
	}
	refund := func(no string, amt alipay.Amount, reqNo, buyer string) {
		t.Helper()
		for range 2 { // each refund sent twice: one refund
			if _, err := e.c.TradeRefund(ctx, alipay.TradeRefundRequest{OutTradeNo: no, RefundAmount: amt, OutRequestNo: reqNo}); err != nil {
				t.Fatal(err)
			}
		}
		move(v3AppID, buyer, amt)
	}
	refund("day-0", 28_00, "r0", sandbox.DefaultBuyer)
	refund("day-2", 80, "r2", sandbox.PoorBuyer)
	refund("day-1", 59_90, "r1", sandbox.DefaultBuyer)

	if err := e.sb.Deposit(v3AppID, 500_00); err != nil {
		t.Fatal(err)
	}
	want[v3AppID] += 500_00

	transfer := func(no string, amt alipay.Amount, payee alipay.Participant, login string) {
		t.Helper()
		for range 2 {
			if _, err := e.c.FundTransUniTransfer(ctx, alipay.FundTransUniTransferRequest{OutBizNo: no, TransAmount: amt, Payee: payee}); err != nil {
				t.Fatal(err)
			}
		}
		move(v3AppID, login, amt)
	}
	transfer("tr1", 66_60, defaultPayee, sandbox.DefaultBuyer)
	transfer("tr2", 12_34, alipay.Participant{Identity: "2088102177846881", IdentityType: alipay.IdentityUserID, Name: sandbox.PoorBuyerName}, sandbox.PoorBuyer)
	if _, err := e.c.FundTransUniTransfer(ctx, alipay.FundTransUniTransferRequest{OutBizNo: "tr3", TransAmount: 100_000_00, Payee: defaultPayee}); !alipay.HasSubCode(err, alipay.SubCodePayerBalanceNotEnough) {
		t.Fatalf("a transfer beyond the balance: %v", err)
	}

	if _, err := e.c.TradeRoyaltyRelationBind(ctx, alipay.TradeRoyaltyRelationBindRequest{OutRequestNo: "b1", Receivers: []alipay.RoyaltyReceiver{
		{Type: alipay.RoyaltyLoginName, Account: sandbox.PoorBuyer, Name: sandbox.PoorBuyerName}}}); err != nil {
		t.Fatal(err)
	}
	settle := func(no, reqNo string, amt alipay.Amount) {
		t.Helper()
		for range 2 {
			if _, err := e.c.TradeOrderSettle(ctx, alipay.TradeOrderSettleRequest{OutRequestNo: reqNo, TradeNo: trades[no],
				Royalties: []alipay.RoyaltyParameter{{TransIn: sandbox.PoorBuyer, TransInType: alipay.RoyaltyLoginName, Amount: amt}}}); err != nil {
				t.Fatal(err)
			}
		}
		move(v3AppID, sandbox.PoorBuyer, amt)
	}
	settle("day-0", "s0", 30_00)
	settle("day-3", "s3", 234_56)
	if _, err := e.c.TradeOrderSettle(ctx, alipay.TradeOrderSettleRequest{OutRequestNo: "s1", TradeNo: trades["day-1"],
		Royalties: []alipay.RoyaltyParameter{{TransIn: sandbox.PoorBuyer, TransInType: alipay.RoyaltyLoginName, Amount: 1}}}); !alipay.HasSubCode(err, alipay.SubCodeAllocAmountValidateError) {
		t.Fatalf("settling a fully refunded trade: %v", err)
	}
	refund("day-3", 1_000_00, "r3", sandbox.DefaultBuyer)

	for who, w := range want {
		e.wantBalance(who, w)
	}
	var total alipay.Amount
	for _, w := range want {
		total += w
	}
	if total != open[sandbox.DefaultBuyer][0]+open[sandbox.PoorBuyer][0]+500_00 {
		t.Fatalf("money was made or lost: %v in all", total)
	}
	acct, err := e.c.FundAccountQuery(ctx, alipay.FundAccountQueryRequest{AlipayUserID: e.seller})
	if err != nil || acct.AvailableAmount != want[v3AppID] {
		t.Fatalf("fund.account.query: %+v %v, want %v", acct, err, want[v3AppID])
	}
}

// The control route tops a merchant up and refuses what is not a deposit.
func TestBalancesControlRoute(t *testing.T) {
	t.Parallel()
	e := newFundEnv(t, alipay.APIv2, false)
	for _, c := range []struct {
		form url.Values
		code int
	}{
		{url.Values{"app_id": {v3AppID}, "amount": {"12.34"}}, http.StatusOK},
		{url.Values{"app_id": {"nosuchapp"}, "amount": {"1.00"}}, http.StatusBadRequest},
		{url.Values{"app_id": {v3AppID}, "amount": {"-1"}}, http.StatusBadRequest},
		{url.Values{"app_id": {v3AppID}, "amount": {"0"}}, http.StatusBadRequest},
	} {
		resp, err := http.PostForm(e.srv.URL+"/api/balances", c.form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Fatalf("%v: %d, want %d", c.form, resp.StatusCode, c.code)
		}
	}
	e.wantBalance(v3AppID, 12_34)
	if err := e.sb.Deposit(v3AppID, 0); !errors.Is(err, sandbox.ErrDeposit) {
		t.Fatalf("a zero deposit: %v", err)
	}
}
