package sandbox

import (
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
	e.srv.Close()
	if err := e.sb.Close(); err != nil {
		t.Fatal(err)
	}

	sb, err := New(Config{DataDir: dir, Store: openStore(t, dir), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
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
