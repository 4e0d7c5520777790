package alipay

// Money out of the merchant's Alipay account: alipay.fund.trans.uni.transfer
// (单笔转账 to an Alipay account), alipay.fund.trans.common.query (its
// state), alipay.fund.account.query (the account's balance). See
// docs/PROTOCOL.md.

import (
	"context"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"
)

// Product codes and the business scene of a transfer.
const (
	// ProductCodeTransAccountNoPwd is 单笔无密转账到支付宝账户: the
	// merchant's balance pays an Alipay account without a password.
	ProductCodeTransAccountNoPwd ProductCode = "TRANS_ACCOUNT_NO_PWD"
	// BizSceneDirectTransfer is the business scene of a B2C transfer.
	BizSceneDirectTransfer = "DIRECT_TRANSFER"
)

// IdentityType names how a participant of a transfer is identified.
type IdentityType string

// Identity types of a transfer's payee.
const (
	IdentityUserID  IdentityType = "ALIPAY_USER_ID"  // 2088 + 12 digits
	IdentityLogonID IdentityType = "ALIPAY_LOGON_ID" // the login: an e-mail address or a phone number; Name required
)

// TransferStatus is the state of a transfer order.
type TransferStatus string

// Transfer states. A transfer to an Alipay account ends SUCCESS or FAIL at
// once; DEALING and REFUND belong to transfers to bank cards.
const (
	TransferStatusSuccess TransferStatus = "SUCCESS"
	TransferStatusFail    TransferStatus = "FAIL"
	TransferStatusDealing TransferStatus = "DEALING"
	TransferStatusRefund  TransferStatus = "REFUND"
)

// Sub codes of the fund calls that callers act on. Nothing moved for any of
// them except SubCodeFundSystemError, whose outcome is unknown.
const (
	SubCodePayerBalanceNotEnough    SubCode = "PAYER_BALANCE_NOT_ENOUGH"   // the merchant's balance is short
	SubCodePayeeNotExist            SubCode = "PAYEE_NOT_EXIST"            // no such payee account
	SubCodePayeeUserInfoError       SubCode = "PAYEE_USER_INFO_ERROR"      // the payee's real name does not match
	SubCodePaymentInfoInconsistency SubCode = "PAYMENT_INFO_INCONSISTENCY" // out_biz_no reused with other parameters
	SubCodeTransferMinAmount        SubCode = "EXCEED_LIMIT_SM_MIN_AMOUNT" // below the 0.10 yuan minimum
	SubCodeOrderNotExist            SubCode = "ORDER_NOT_EXIST"            // common.query: no such transfer
	SubCodeFundSystemError          SubCode = "SYSTEM_ERROR"               // the outcome is unknown: repeat or query
)

// MinTransferAmount is the smallest TRANS_ACCOUNT_NO_PWD transfer: 0.10 yuan.
const MinTransferAmount Amount = 10

var (
	outBizNoRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	userIDRe   = regexp.MustCompile(`^2088[0-9]{12}$`)
)

// Participant is the payee of a transfer.
type Participant struct {
	Identity     string       `json:"identity"`
	IdentityType IdentityType `json:"identity_type"`
	// Name is the payee's real name (实名). Alipay checks it against the
	// account when given (PAYEE_USER_INFO_ERROR when it differs); it is
	// required with IdentityLogonID.
	Name string `json:"name,omitempty"`
}

func (p Participant) check() error {
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

// FundTransUniTransferRequest is the business content of
// alipay.fund.trans.uni.transfer: the merchant pays an Alipay account from
// its balance.
type FundTransUniTransferRequest struct {
	// OutBizNo identifies the transfer at the merchant. Store it before the
	// call and send the same request with it on every retry: Alipay pays
	// once and answers the first result to the repeats (the same number
	// with other parameters is PAYMENT_INFO_INCONSISTENCY).
	OutBizNo    string
	TransAmount Amount // 0.10 yuan or more
	Payee       Participant
	OrderTitle  string // shown in the payee's bill
	Remark      string
	ProductCode ProductCode // default ProductCodeTransAccountNoPwd
	BizScene    string      // default BizSceneDirectTransfer
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

// FundTransUniTransferResult is the answer of alipay.fund.trans.uni.transfer.
type FundTransUniTransferResult struct {
	OutBizNo       string         `json:"out_biz_no"`
	OrderID        string         `json:"order_id"`          // Alipay's transfer order
	PayFundOrderID string         `json:"pay_fund_order_id"` // Alipay's fund flow
	Status         TransferStatus `json:"status"`
	TransDate      time.Time      `json:"trans_date"`
	Raw            *Response      `json:"-"`
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
	if err := p.Payee.check(); err != nil {
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

// FundTransCommonQueryRequest names the transfer alipay.fund.trans.common.query
// asks about: by OrderID, or by OutBizNo with its ProductCode and BizScene
// (defaults: TRANS_ACCOUNT_NO_PWD, DIRECT_TRANSFER).
type FundTransCommonQueryRequest struct {
	OutBizNo    string
	OrderID     string
	ProductCode ProductCode
	BizScene    string
}

// FundTransCommonQueryResult is the answer of alipay.fund.trans.common.query.
type FundTransCommonQueryResult struct {
	OrderID        string         `json:"order_id"`
	PayFundOrderID string         `json:"pay_fund_order_id"`
	OutBizNo       string         `json:"out_biz_no"`
	TransAmount    Amount         `json:"trans_amount"` // set when SUCCESS
	Status         TransferStatus `json:"status"`
	PayDate        time.Time      `json:"pay_date"`   // zero unless paid
	ErrorCode      string         `json:"error_code"` // FAIL: why
	FailReason     string         `json:"fail_reason"`
	Raw            *Response      `json:"-"`
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

// AccountTypeAcctrans is the account type of alipay.fund.account.query
// that asks for the balance account (余额账户).
const AccountTypeAcctrans = "ACCTRANS_ACCOUNT"

// FundAccountQueryRequest names the account of alipay.fund.account.query:
// the merchant's own, by its user id (the PID, 2088…).
type FundAccountQueryRequest struct {
	AlipayUserID string
	AccountType  string // default AccountTypeAcctrans
}

// FundAccountQueryResult is the answer of alipay.fund.account.query.
type FundAccountQueryResult struct {
	AvailableAmount Amount    `json:"available_amount"` // can pay or be withdrawn
	FreezeAmount    Amount    `json:"freeze_amount"`
	Raw             *Response `json:"-"`
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

// DataBillBalanceQueryRequest is the business content of
// alipay.data.bill.balance.query: the merchant's own balance; BillUserID
// names another account the app may read (an ISV's merchant), "" the app's.
type DataBillBalanceQueryRequest struct {
	BillUserID string
}

// DataBillBalanceQueryResult is the answer of alipay.data.bill.balance.query.
type DataBillBalanceQueryResult struct {
	TotalAmount     Amount    `json:"total_amount"`     // the whole balance
	AvailableAmount Amount    `json:"available_amount"` // of which available
	FreezeAmount    Amount    `json:"freeze_amount"`    // of which frozen
	Raw             *Response `json:"-"`
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
