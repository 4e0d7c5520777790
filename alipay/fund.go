package alipay

// Money out of the merchant's Alipay account: alipay.fund.trans.uni.transfer
// (单笔转账 to an Alipay account), alipay.fund.trans.common.query (its
// state), alipay.fund.account.query (the account's balance). See
// docs/PROTOCOL.md.

import (
	"context"
	"fmt"
	"regexp"
	"unicode/utf8"
)

var (
	outBizNoRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	userIDRe   = regexp.MustCompile(`^2088[0-9]{12}$`)
)

// checkPayee checks the payee of a transfer before it is sent.
func checkPayee(p Participant) error {
	switch p.IdentityType {
	case IdentityUserID:
		if !userIDRe.MatchString(p.Identity) {
			return fmt.Errorf("%w: payee identity %q must be a user id: 2088 and 12 digits", ErrInvalidParam, p.Identity)
		}
	case IdentityLogonID:
		if p.Identity == "" || len(p.Identity) > 100 {
			return fmt.Errorf("%w: payee identity must be an Alipay login of 1-100 bytes", ErrInvalidParam)
		}
		if p.Name == "" {
			return fmt.Errorf("%w: payee name is required with ALIPAY_LOGON_ID", ErrInvalidParam)
		}
	default:
		return fmt.Errorf("%w: payee identity_type %q: want ALIPAY_USER_ID or ALIPAY_LOGON_ID", ErrInvalidParam, p.IdentityType)
	}
	if utf8.RuneCountInString(p.Name) > 100 {
		return fmt.Errorf("%w: payee name is longer than 100 characters", ErrInvalidParam)
	}
	return nil
}

// transferBiz is the biz_content of a transfer.
type transferBiz struct {
	OutBizNo    string      `json:"out_biz_no"`
	TransAmount Amount      `json:"trans_amount"`
	ProductCode ProductCode `json:"product_code"`
	BizScene    string      `json:"biz_scene"`
	OrderTitle  string      `json:"order_title,omitempty"`
	PayeeInfo   Participant `json:"payee_info"`
	Remark      string      `json:"remark,omitempty"`
}

// FundTransUniTransfer calls alipay.fund.trans.uni.transfer. A refusal is
// an *Error and nothing was paid (PAYER_BALANCE_NOT_ENOUGH, PAYEE_NOT_EXIST,
// PAYEE_USER_INFO_ERROR, …); an unknown outcome (IsUnknownOutcome: a
// timeout, 20000, SYSTEM_ERROR) must be settled by repeating the same
// request or by FundTransCommonQuery with the same OutBizNo.
func (c *Client) FundTransUniTransfer(ctx context.Context, p FundTransUniTransferRequest) (*FundTransUniTransferResult, error) {
	if !outBizNoRe.MatchString(p.OutBizNo) {
		return nil, fmt.Errorf("%w: out_biz_no %q must be 1-64 letters, digits, _ or -", ErrInvalidParam, p.OutBizNo)
	}
	if p.TransAmount < MinTransferAmount || p.TransAmount > MaxAmount {
		return nil, fmt.Errorf("%w: trans_amount %s must be 0.10 to 100000000.00 yuan", ErrInvalidParam, p.TransAmount)
	}
	if err := checkPayee(p.Payee); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(p.OrderTitle) > 128 || utf8.RuneCountInString(p.Remark) > 200 {
		return nil, fmt.Errorf("%w: order_title is at most 128 characters, remark 200", ErrInvalidParam)
	}
	if p.ProductCode == "" {
		p.ProductCode = ProductCodeTransAccountNoPwd
	}
	if p.BizScene == "" {
		p.BizScene = BizSceneDirectTransfer
	}
	biz := transferBiz{OutBizNo: p.OutBizNo, TransAmount: p.TransAmount, ProductCode: p.ProductCode, BizScene: p.BizScene,
		OrderTitle: p.OrderTitle, PayeeInfo: p.Payee, Remark: p.Remark}
	var r FundTransUniTransferResult
	w := struct {
		*FundTransUniTransferResult
		TransDate string `json:"trans_date"`
	}{FundTransUniTransferResult: &r}
	raw, err := c.do(ctx, request{method: "alipay.fund.trans.uni.transfer", biz: biz}, &w)
	if err == nil {
		r.TransDate, err = responseTime(raw, "trans_date", w.TransDate)
	}
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// FundTransCommonQuery calls alipay.fund.trans.common.query. A transfer
// Alipay never accepted answers *Error with SubCode ORDER_NOT_EXIST: after an
// unknown outcome that means nothing was paid, and the same request may be
// sent again.
func (c *Client) FundTransCommonQuery(ctx context.Context, p FundTransCommonQueryRequest) (*FundTransCommonQueryResult, error) {
	if p.OutBizNo == "" && p.OrderID == "" {
		return nil, fmt.Errorf("%w: give out_biz_no or order_id", ErrInvalidParam)
	}
	biz := map[string]string{}
	if p.OrderID != "" {
		biz["order_id"] = p.OrderID
	}
	if p.OutBizNo != "" {
		if p.ProductCode == "" {
			p.ProductCode = ProductCodeTransAccountNoPwd
		}
		if p.BizScene == "" {
			p.BizScene = BizSceneDirectTransfer
		}
		biz["out_biz_no"], biz["product_code"], biz["biz_scene"] = p.OutBizNo, string(p.ProductCode), p.BizScene
	}
	var r FundTransCommonQueryResult
	w := struct {
		*FundTransCommonQueryResult
		PayDate string `json:"pay_date"`
	}{FundTransCommonQueryResult: &r}
	raw, err := c.do(ctx, request{method: "alipay.fund.trans.common.query", biz: biz}, &w)
	if err == nil {
		r.PayDate, err = responseTime(raw, "pay_date", w.PayDate)
	}
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// FundAccountQuery calls alipay.fund.account.query.
func (c *Client) FundAccountQuery(ctx context.Context, p FundAccountQueryRequest) (*FundAccountQueryResult, error) {
	if !userIDRe.MatchString(p.AlipayUserID) {
		return nil, fmt.Errorf("%w: alipay_user_id %q must be 2088 and 12 digits", ErrInvalidParam, p.AlipayUserID)
	}
	if p.AccountType == "" {
		p.AccountType = AccountTypeAcctrans
	}
	biz := map[string]string{"alipay_user_id": p.AlipayUserID, "account_type": p.AccountType}
	var r FundAccountQueryResult
	raw, err := c.do(ctx, request{method: "alipay.fund.account.query", biz: biz}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// DataBillBalanceQuery calls alipay.data.bill.balance.query.
func (c *Client) DataBillBalanceQuery(ctx context.Context, p DataBillBalanceQueryRequest) (*DataBillBalanceQueryResult, error) {
	biz := map[string]string{}
	if p.BillUserID != "" {
		if !userIDRe.MatchString(p.BillUserID) {
			return nil, fmt.Errorf("%w: bill_user_id %q must be 2088 and 12 digits", ErrInvalidParam, p.BillUserID)
		}
		biz["bill_user_id"] = p.BillUserID
	}
	var r DataBillBalanceQueryResult
	raw, err := c.do(ctx, request{method: "alipay.data.bill.balance.query", biz: biz}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}
