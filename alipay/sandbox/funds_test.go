package sandbox

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"alishop/alipay"
)

// A restart keeps the merchant's balance, its transfers (a repeat answers
// the first one), its 分账 relations and its settlements.
func TestFundsPersistAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnvDir(t, dir)
	e.paid("f1", alipay.MustAmount("50.00"))
	v, _ := e.sb.Trade(testAppID, "f1")
	tradeNo := v.TradeNo
	if err := e.sb.Deposit(testAppID, alipay.MustAmount("10.00")); err != nil {
		t.Fatal(err)
	}
	payee := alipay.Participant{Identity: DefaultBuyer, IdentityType: alipay.IdentityLogonID, Name: DefaultBuyerName}
	tr, err := e.client.FundTransUniTransfer(ctx, alipay.FundTransUniTransferRequest{OutBizNo: "t1", TransAmount: 7_00, Payee: payee})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.TradeRoyaltyRelationBind(ctx, alipay.TradeRoyaltyRelationBindRequest{OutRequestNo: "b1",
		Receivers: []alipay.RoyaltyReceiver{{Type: alipay.RoyaltyLoginName, Account: PoorBuyer, Name: PoorBuyerName}}}); err != nil {
		t.Fatal(err)
	}
	st, err := e.client.TradeOrderSettle(ctx, alipay.TradeOrderSettleRequest{OutRequestNo: "s1", TradeNo: tradeNo,
		Royalties: []alipay.RoyaltyParameter{{TransIn: PoorBuyer, TransInType: alipay.RoyaltyLoginName, Amount: 3_00}}})
	if err != nil {
		t.Fatal(err)
	}
	before := e.sb.Balances()
	sb := e.restart(dir)
	after := sb.Balances()
	if len(after.Merchants) != 1 || after.Merchants[0] != before.Merchants[0] || after.Merchants[0].Balance != "50.00" {
		t.Fatalf("merchant after restart: %+v, before %+v", after.Merchants, before.Merchants)
	}
	for i := range before.Buyers {
		if after.Buyers[i] != before.Buyers[i] || after.Buyers[i].Balance != after.Buyers[i].Movements {
			t.Fatalf("buyer after restart: %+v, before %+v", after.Buyers[i], before.Buyers[i])
		}
	}
	sb.mu.Lock()
	rec := sb.funds.transfers[transferKey(testAppID, "t1")]
	bound := sb.funds.relations[testAppID].Receivers[poorBuyerUID] != nil
	settled := sb.funds.settles[st.SettleNo]
	sb.mu.Unlock()
	if rec == nil || rec.OrderID != tr.OrderID || !bound || settled == nil || settled.Settled != 3_00 {
		t.Fatalf("after restart: transfer %+v, bound %v, settled trade %+v", rec, bound, settled)
	}
}

// A restart keeps signed agreements: the query answers them as they were,
// and a deduction under one charges the buyer.
func TestAgreementsPersistAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnvDir(t, dir)
	signURL, err := e.client.UserAgreementPageSignURL(alipay.AgreementPageSignRequest{SignScene: "INDUSTRY|DIGITAL_MEDIA", ExternalAgreementNo: "m1",
		PeriodRule: &alipay.PeriodRule{PeriodType: "MONTH", Period: 1, ExecuteTime: e.sb.Now(), SingleAmount: 3000}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.http.Get(signURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	page := resp.Header.Get("Location")
	resp, err = e.http.PostForm(page, url.Values{"login": {DefaultBuyer}, "password": {BuyerPassword}, "action": {"sign"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	before, err := e.client.UserAgreementQuery(ctx, alipay.AgreementRef{PersonalProductCode: alipay.PersonalProductCyclePay,
		SignScene: "INDUSTRY|DIGITAL_MEDIA", ExternalAgreementNo: "m1"})
	if err != nil || before.Status != alipay.AgreementNormal {
		t.Fatalf("agreement before the restart: %+v %v (sign page %s answered %s)", before, err, page, resp.Status)
	}
	sb := e.restart(dir)
	srv := httptest.NewServer(sb)
	defer srv.Close()
	c, err := alipay.New(alipay.Config{AppID: testAppID, PrivateKey: appKey, AlipayPublicKey: sb.PublicKey(), Gateway: srv.URL + "/gateway.do", Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	after, err := c.UserAgreementQuery(ctx, alipay.AgreementRef{AgreementNo: before.AgreementNo})
	if err != nil || after.Status != alipay.AgreementNormal || after.PrincipalID != before.PrincipalID || after.PrincipalID == "" || !after.SignTime.Equal(before.SignTime) {
		t.Fatalf("agreement after the restart: %+v %v, before %+v", after, err, before)
	}
	paid, err := c.TradePay(ctx, alipay.TradePayRequest{OutTradeNo: "d1", TotalAmount: 20_00, Subject: "月费",
		AgreementNo: before.AgreementNo, ProductCode: alipay.ProductCodeCyclePay})
	if err != nil || paid.TotalAmount != 20_00 {
		t.Fatalf("deduction after the restart: %+v %v", paid, err)
	}
}
