package wire

import "time"

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

// Participant is the payee of a transfer.
type Participant struct {
	Identity     string       `json:"identity"`
	IdentityType IdentityType `json:"identity_type"`
	// Name is the payee's real name (实名). Alipay checks it against the
	// account when given (PAYEE_USER_INFO_ERROR when it differs); it is
	// required with IdentityLogonID.
	Name string `json:"name,omitempty"`
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

// FundTransUniTransferResult is the answer of alipay.fund.trans.uni.transfer.
type FundTransUniTransferResult struct {
	OutBizNo       string         `json:"out_biz_no"`
	OrderID        string         `json:"order_id"`          // Alipay's transfer order
	PayFundOrderID string         `json:"pay_fund_order_id"` // Alipay's fund flow
	Status         TransferStatus `json:"status"`
	TransDate      time.Time      `json:"trans_date"`
	Raw            *Response      `json:"-"`
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
