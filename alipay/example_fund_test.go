package alipay_test

import (
	"context"
	"fmt"
	"log"

	"alishop/alipay"
)

func ExampleClient_FundTransUniTransfer() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.fund.trans.uni.transfer": `{"code":"10000","msg":"Success","order_id":"20240102110070000006040050105202","out_biz_no":"comp-o_20240102_1","pay_fund_order_id":"20240102110070001506040049801906","status":"SUCCESS","trans_date":"2024-01-02 15:20:00"}`,
	})
	defer stop()
	// Store the transfer with its out_biz_no first, then call; while the
	// outcome is unknown, send the same request again or query it.
	req := alipay.FundTransUniTransferRequest{
		OutBizNo:    "comp-o_20240102_1",
		TransAmount: alipay.MustAmount("5.00"),
		Payee:       alipay.Participant{Identity: "buyer@sandbox.com", IdentityType: alipay.IdentityLogonID, Name: "沙箱买家"},
		OrderTitle:  "订单补偿",
	}
	r, err := c.FundTransUniTransfer(context.Background(), req)
	switch {
	case alipay.IsUnknownOutcome(err):
		fmt.Println("unknown: query with FundTransCommonQuery or repeat the same request")
	case alipay.HasSubCode(err, alipay.SubCodePayerBalanceNotEnough):
		fmt.Println("refused: the merchant's balance is short")
	case err != nil:
		fmt.Println("refused:", err)
	default:
		fmt.Println(r.Status, r.OrderID, alipay.FormatTime(r.TransDate))
	}
	// Output: SUCCESS 20240102110070000006040050105202 2024-01-02 15:20:00
}

func ExampleClient_FundTransCommonQuery() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.fund.trans.common.query": `{"code":"40004","msg":"Business Failed","sub_code":"ORDER_NOT_EXIST","sub_msg":"转账订单不存在"}`,
	})
	defer stop()
	_, err := c.FundTransCommonQuery(context.Background(), alipay.FundTransCommonQueryRequest{OutBizNo: "comp-o_20240102_1"})
	if alipay.HasSubCode(err, alipay.SubCodeOrderNotExist) {
		fmt.Println("never accepted: nothing was paid; the same request may be sent again")
	}
	// Output: never accepted: nothing was paid; the same request may be sent again
}

func ExampleClient_FundAccountQuery() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.fund.account.query": `{"code":"10000","msg":"Success","available_amount":"1234.56","freeze_amount":"0.00"}`,
	})
	defer stop()
	r, err := c.FundAccountQuery(context.Background(), alipay.FundAccountQueryRequest{AlipayUserID: "2088102177846899"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("available", r.AvailableAmount, "fen:", int64(r.AvailableAmount))
	// Output: available 1234.56 fen: 123456
}

func ExampleClient_DataBillBalanceQuery() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.data.bill.balance.query": `{"code":"10000","msg":"Success","available_amount":"1234.56","freeze_amount":"0.00","total_amount":"1234.56"}`,
	})
	defer stop()
	r, err := c.DataBillBalanceQuery(context.Background(), alipay.DataBillBalanceQueryRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.TotalAmount, r.AvailableAmount, r.FreezeAmount)
	// Output: 1234.56 1234.56 0.00
}

func ExampleClient_TradeRoyaltyRelationBind() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.royalty.relation.bind": `{"code":"10000","msg":"Success","result_code":"SUCCESS"}`,
	})
	defer stop()
	r, err := c.TradeRoyaltyRelationBind(context.Background(), alipay.TradeRoyaltyRelationBindRequest{
		OutRequestNo: "bind-1",
		Receivers:    []alipay.RoyaltyReceiver{{Type: alipay.RoyaltyLoginName, Account: "partner@sandbox.com", Name: "合作方", Memo: "分成"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.ResultCode)
	// Output: SUCCESS
}

func ExampleClient_TradeRoyaltyRelationUnbind() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.royalty.relation.unbind": `{"code":"10000","msg":"Success","result_code":"SUCCESS"}`,
	})
	defer stop()
	r, err := c.TradeRoyaltyRelationUnbind(context.Background(), alipay.TradeRoyaltyRelationUnbindRequest{
		OutRequestNo: "unbind-1",
		Receivers:    []alipay.RoyaltyReceiver{{Type: alipay.RoyaltyUserID, Account: "2088102177846881"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.ResultCode)
	// Output: SUCCESS
}

func ExampleClient_TradeRoyaltyRelationBatchQuery() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.royalty.relation.batchquery": `{"code":"10000","msg":"Success","current_page_num":1,"current_page_size":20,"receiver_list":[{"account":"2088102177846881","type":"userId"}],"result_code":"SUCCESS","total_page_num":1,"total_record_num":1}`,
	})
	defer stop()
	r, err := c.TradeRoyaltyRelationBatchQuery(context.Background(), alipay.TradeRoyaltyRelationBatchQueryRequest{OutRequestNo: "q-1"})
	if err != nil {
		log.Fatal(err)
	}
	for _, rc := range r.Receivers {
		fmt.Println(rc.Type, rc.Account)
	}
	fmt.Println(r.TotalRecordNum, "bound")
	// Output:
	// userId 2088102177846881
	// 1 bound
}

func ExampleClient_TradeOrderSettle() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.order.settle": `{"code":"40004","msg":"Business Failed","sub_code":"ACQ.ALLOC_AMOUNT_VALIDATE_ERROR","sub_msg":"分账金额超过最大可分账金额","trade_no":"2024010222001400000000000001"}`,
	})
	defer stop()
	_, err := c.TradeOrderSettle(context.Background(), alipay.TradeOrderSettleRequest{
		OutRequestNo: "settle-1",
		TradeNo:      "2024010222001400000000000001",
		Royalties:    []alipay.RoyaltyParameter{{TransIn: "partner@sandbox.com", TransInType: alipay.RoyaltyLoginName, Amount: alipay.MustAmount("90.00")}},
	})
	switch {
	case alipay.HasSubCode(err, alipay.SubCodeAllocAmountValidateError):
		fmt.Println("more than the trade allows: paid less refunded and settled")
	case alipay.HasSubCode(err, alipay.SubCodeRoyaltyReceiverInvalid):
		fmt.Println("bind the receiver first")
	case alipay.IsUnknownOutcome(err):
		fmt.Println("unknown: TradeOrderSettleQuery, or repeat the same request")
	case err != nil:
		fmt.Println(err)
	}
	// Output: more than the trade allows: paid less refunded and settled
}

func ExampleClient_TradeOrderSettleQuery() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.order.settle.query": `{"code":"10000","msg":"Success","operation_dt":"2024-01-02 15:30:00","out_request_no":"settle-1","royalty_detail_list":[{"amount":"10.00","detail_id":"1","execute_dt":"2024-01-02 15:30:00","operation_type":"transfer","state":"SUCCESS","trans_in":"2088102177846881","trans_in_type":"userId","trans_out":"2088102177846899","trans_out_type":"userId"}]}`,
	})
	defer stop()
	r, err := c.TradeOrderSettleQuery(context.Background(), alipay.TradeOrderSettleQueryRequest{OutRequestNo: "settle-1", TradeNo: "2024010222001400000000000001"})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range r.Details {
		fmt.Println(d.State, d.Amount, "to", d.TransIn, "at", alipay.FormatTime(d.ExecuteDt))
	}
	// Output: SUCCESS 10.00 to 2088102177846881 at 2024-01-02 15:30:00
}
