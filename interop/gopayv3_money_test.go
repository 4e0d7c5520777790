package interop

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/go-pay/gopay"
	gp3 "github.com/go-pay/gopay/alipay/v3"
)

// gopayV3Money drives transfers, the merchant's balance and 分账 with
// gopay's v3 client: 8 lines. paidTradeNo is a paid trade with room for ¥1.00.
func gopayV3Money(t *testing.T, r *reporter, a *app, c *gp3.ClientV3, paidTradeNo string) {
	r.step("FundAccountQuery (GET)", func() (string, error) {
		q, err := c.FundAccountQuery(ctx(t), gopay.BodyMap{"alipay_user_id": a.seller, "account_type": "ACCTRANS_ACCOUNT"})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return "available " + q.AvailableAmount, check(q.AvailableAmount != "", "available_amount")
	})
	outBiz := uniq("G3T")
	transfer := func(out, name string) gopay.BodyMap {
		return gopay.BodyMap{"out_biz_no": out, "trans_amount": "1.00", "product_code": "TRANS_ACCOUNT_NO_PWD", "biz_scene": "DIRECT_TRANSFER",
			"order_title": "gopay v3 transfer", "payee_info": map[string]string{"identity": "2088102177846880", "identity_type": "ALIPAY_USER_ID", "name": name}}
	}
	var orderID string
	r.step("FundTransUniTransfer to a user id, then again (the first result)", func() (string, error) {
		q, err := c.FundTransUniTransfer(ctx(t), transfer(outBiz, "沙箱买家"))
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		again, err := c.FundTransUniTransfer(ctx(t), transfer(outBiz, "沙箱买家"))
		if err != nil {
			return "", err
		}
		if err := v3OK(again.StatusCode, again.ErrResponse); err != nil {
			return "", err
		}
		orderID = q.OrderId
		return q.Status + " order " + q.OrderId, check(q.Status == "SUCCESS" && q.OrderId != "" && again.OrderId == q.OrderId, "SUCCESS, and the same order_id again")
	})
	r.step("FundTransUniTransfer with a wrong real name → 400", func() (string, error) {
		q, err := c.FundTransUniTransfer(ctx(t), transfer(uniq("G3X"), "别人"))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("HTTP %d %s", q.StatusCode, q.ErrResponse.Code), check(q.StatusCode == http.StatusBadRequest && q.ErrResponse.Code == "PAYEE_USER_INFO_ERROR", "400 PAYEE_USER_INFO_ERROR")
	})
	r.step("FundTransCommonQuery (GET)", func() (string, error) {
		q, err := c.FundTransCommonQuery(ctx(t), gopay.BodyMap{"order_id": orderID, "product_code": "TRANS_ACCOUNT_NO_PWD", "biz_scene": "DIRECT_TRANSFER"})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return q.Status + " " + q.TransAmount, check(q.Status == "SUCCESS" && q.TransAmount == "1.00", "SUCCESS 1.00")
	})
	receivers := []map[string]string{{"type": "userId", "account": "2088102177846880", "name": "沙箱买家", "memo": "partner"}}
	r.step("TradeRelationBind, TradeRelationBatchQuery", func() (string, error) {
		q, err := c.TradeRelationBind(ctx(t), gopay.BodyMap{"receiver_list": receivers, "out_request_no": uniq("G3R")})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		b, err := c.TradeRelationBatchQuery(ctx(t), gopay.BodyMap{"page_num": 1, "page_size": 20})
		if err != nil {
			return "", err
		}
		if err := v3OK(b.StatusCode, b.ErrResponse); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s, %d receiver", q.ResultCode, len(b.ReceiverList)), check(q.ResultCode == "SUCCESS" && len(b.ReceiverList) == 1, "SUCCESS and one receiver")
	})
	var settleNo string
	r.step("TradeOrderSettle", func() (string, error) {
		q, err := c.TradeOrderSettle(ctx(t), gopay.BodyMap{"out_request_no": uniq("G3S"), "trade_no": paidTradeNo,
			"royalty_parameters": []map[string]any{{"royalty_type": "transfer", "trans_in_type": "userId", "trans_in": "2088102177846880", "amount": "1.00"}}})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		settleNo = q.SettleNo
		return "settle_no " + settleNo, check(settleNo != "" && q.TradeNo == paidTradeNo, "a settle_no for %s", paidTradeNo)
	})
	r.step("TradeOrderSettleQuery (GET)", func() (string, error) {
		q, err := c.TradeOrderSettleQuery(ctx(t), gopay.BodyMap{"settle_no": settleNo})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		if err := check(len(q.RoyaltyDetailList) == 1, "one royalty detail, got %d", len(q.RoyaltyDetailList)); err != nil {
			return "", err
		}
		d := q.RoyaltyDetailList[0]
		return d.State + " " + d.Amount, check(d.State == "SUCCESS" && d.Amount == "1.00", "SUCCESS 1.00")
	})
	r.step("TradeRelationUnbind", func() (string, error) {
		q, err := c.TradeRelationUnbind(ctx(t), gopay.BodyMap{"receiver_list": receivers, "out_request_no": uniq("G3U")})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("HTTP %d", q.StatusCode), v3OK(q.StatusCode, q.ErrResponse)
	})
}
