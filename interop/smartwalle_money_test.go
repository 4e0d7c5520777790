package interop

import (
	"fmt"
	"testing"

	sw "github.com/smartwalle/alipay/v3"
)

// smartwalleMoney drives transfers, the merchant's balance and 分账 with
// smartwalle (its generic Payload where it has no typed call): 9 lines.
// paidTradeNo is a paid trade with room for a ¥1.00 settlement.
func smartwalleMoney(t *testing.T, r *reporter, sb *sandboxProc, a *app, c *sw.Client, paidTradeNo string) {
	sellerID := a.seller
	var balance string
	r.step("FundAccountQuery and BillBalanceQuery (the merchant's balance)", func() (string, error) {
		q, err := c.FundAccountQuery(ctx(t), sw.FundAccountQuery{AliPayUserId: sellerID, AccountType: "ACCTRANS_ACCOUNT"})
		if err != nil {
			return "", err
		}
		if err := swCode(q.Error, "10000"); err != nil {
			return "", err
		}
		b, err := c.BillBalanceQuery(ctx(t), sw.BillBalanceQuery{})
		if err != nil {
			return "", err
		}
		if err := swCode(b.Error, "10000"); err != nil {
			return "", err
		}
		balance = q.AvailableAmount
		return "available " + q.AvailableAmount, check(q.AvailableAmount != "" && b.AvailableAmount == q.AvailableAmount, "the same balance from both, got %s and %s", q.AvailableAmount, b.AvailableAmount)
	})
	outBiz := uniq("SWT")
	transfer := sw.FundTransUniTransfer{OutBizNo: outBiz, TransAmount: "1.00", ProductCode: "TRANS_ACCOUNT_NO_PWD", BizScene: "DIRECT_TRANSFER",
		OrderTitle: "smartwalle transfer", PayeeInfo: &sw.PayeeInfo{Identity: "buyer@sandbox.com", IdentityType: "ALIPAY_LOGON_ID", Name: "沙箱买家"}}
	var orderID string
	r.step("FundTransUniTransfer to a login with its real name", func() (string, error) {
		q, err := c.FundTransUniTransfer(ctx(t), transfer)
		if err != nil {
			return "", err
		}
		if err := swCode(q.Error, "10000"); err != nil {
			return "", err
		}
		orderID = q.OrderId
		return q.Status + " order " + q.OrderId, check(q.Status == "SUCCESS" && q.OrderId != "", "SUCCESS with an order_id")
	})
	r.step("FundTransUniTransfer again (same out_biz_no: the first result)", func() (string, error) {
		q, err := c.FundTransUniTransfer(ctx(t), transfer)
		if err != nil {
			return "", err
		}
		if err := swCode(q.Error, "10000"); err != nil {
			return "", err
		}
		return "order " + q.OrderId, check(q.OrderId == orderID, "the first order_id %s", orderID)
	})
	r.step("FundTransUniTransfer with a wrong real name (refused)", func() (string, error) {
		bad := transfer
		bad.OutBizNo = uniq("SWX")
		bad.PayeeInfo = &sw.PayeeInfo{Identity: "buyer@sandbox.com", IdentityType: "ALIPAY_LOGON_ID", Name: "别人"}
		q, err := c.FundTransUniTransfer(ctx(t), bad)
		if err != nil {
			return "", err
		}
		return q.SubCode, check(string(q.Code) == "40004" && q.SubCode == "PAYEE_USER_INFO_ERROR", "40004 PAYEE_USER_INFO_ERROR, got %s %s", q.Code, q.SubCode)
	})
	r.step("FundTransCommonQuery", func() (string, error) {
		q, err := c.FundTransCommonQuery(ctx(t), sw.FundTransCommonQuery{OrderId: orderID, ProductCode: "TRANS_ACCOUNT_NO_PWD", BizScene: "DIRECT_TRANSFER"})
		if err != nil {
			return "", err
		}
		if err := swCode(q.Error, "10000"); err != nil {
			return "", err
		}
		return q.Status + " " + q.TransAmount, check(q.Status == "SUCCESS" && q.TransAmount == "1.00", "SUCCESS 1.00")
	})
	receiver := []map[string]string{{"type": "loginName", "account": "buyer@sandbox.com", "name": "沙箱买家", "memo": "partner"}}
	r.lacks("royalty relation bind/unbind/batchquery, settle query", "smartwalle has no typed calls: sent with its generic NewPayload + Request below")
	r.step("alipay.trade.royalty.relation.bind (NewPayload)", func() (string, error) {
		var q struct {
			sw.Error
			ResultCode string `json:"result_code"`
		}
		p := sw.NewPayload("alipay.trade.royalty.relation.bind").AddBizField("receiver_list", receiver).AddBizField("out_request_no", uniq("SWR"))
		if err := c.Request(ctx(t), p, &q); err != nil {
			return "", err
		}
		return q.ResultCode, check(string(q.Code) == "10000" && q.ResultCode == "SUCCESS", "SUCCESS, got %s %s", q.Code, q.SubCode)
	})
	settleReq := uniq("SWS")
	r.step("TradeOrderSettle (royalty to the bound receiver)", func() (string, error) {
		q, err := c.TradeOrderSettle(ctx(t), sw.TradeOrderSettle{OutRequestNo: settleReq, TradeNo: paidTradeNo,
			RoyaltyParameters: []*sw.RoyaltyParameter{{TransOut: sellerID, TransIn: "2088102177846880", Amount: 1, Desc: "分账"}}})
		if err != nil {
			return "", err
		}
		if err := swCode(q.Error, "10000"); err != nil {
			return "", err
		}
		// TradeOrderSettleRsp has no settle_no field; the query below finds it by out_request_no.
		return "trade " + q.TradeNo, check(q.TradeNo == paidTradeNo, "trade_no %s", paidTradeNo)
	})
	r.step("alipay.trade.order.settle.query (NewPayload)", func() (string, error) {
		var q struct {
			sw.Error
			RoyaltyDetailList []struct {
				State  string `json:"state"`
				Amount string `json:"amount"`
			} `json:"royalty_detail_list"`
		}
		p := sw.NewPayload("alipay.trade.order.settle.query").AddBizField("out_request_no", settleReq).AddBizField("trade_no", paidTradeNo)
		if err := c.Request(ctx(t), p, &q); err != nil {
			return "", err
		}
		if err := check(string(q.Code) == "10000" && len(q.RoyaltyDetailList) == 1, "one royalty detail, got %s %s", q.Code, q.SubCode); err != nil {
			return "", err
		}
		d := q.RoyaltyDetailList[0]
		return d.State + " " + d.Amount, check(d.State == "SUCCESS" && d.Amount == "1.00", "SUCCESS 1.00")
	})
	r.step("alipay.trade.royalty.relation.batchquery and unbind (NewPayload)", func() (string, error) {
		var q struct {
			sw.Error
			ReceiverList []map[string]any `json:"receiver_list"`
		}
		p := sw.NewPayload("alipay.trade.royalty.relation.batchquery").AddBizField("page_num", 1).AddBizField("page_size", 20).AddBizField("out_request_no", uniq("SWQ"))
		if err := c.Request(ctx(t), p, &q); err != nil {
			return "", err
		}
		if err := check(string(q.Code) == "10000" && len(q.ReceiverList) == 1, "one bound receiver, got %s %s %v", q.Code, q.SubCode, q.ReceiverList); err != nil {
			return "", err
		}
		var u sw.Error
		if err := c.Request(ctx(t), sw.NewPayload("alipay.trade.royalty.relation.unbind").AddBizField("receiver_list", receiver).AddBizField("out_request_no", uniq("SWU")), &u); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d receiver, then unbind %s (balance before: %s)", len(q.ReceiverList), u.Code, balance), check(string(u.Code) == "10000", "unbind 10000")
	})
}
