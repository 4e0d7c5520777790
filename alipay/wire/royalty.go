package wire

import "time"

// RoyaltyAccountType names how a 分账 party is identified.
type RoyaltyAccountType string

// Account types of 分账 parties.
const (
	RoyaltyUserID    RoyaltyAccountType = "userId"    // 2088 + 12 digits
	RoyaltyLoginName RoyaltyAccountType = "loginName" // the Alipay login
)

// Sub codes of the 分账 calls that callers act on.
const (
	SubCodeRoyaltyReceiverInvalid   SubCode = "ACQ.ROYALTY_RECEIVER_INVALID"    // settle: a receiver not bound
	SubCodeAllocAmountValidateError SubCode = "ACQ.ALLOC_AMOUNT_VALIDATE_ERROR" // settle: more than the trade allows
	SubCodeDiscordantRepeatRequest  SubCode = "ACQ.DISCORDANT_REPEAT_REQUEST"   // a request number reused with other parameters
	SubCodeUserNotExist             SubCode = "ACQ.USER_NOT_EXIST"              // bind: no such receiver account
)

// RoyaltyReceiver is a 分账 receiver bound to the app.
type RoyaltyReceiver struct {
	Type    RoyaltyAccountType `json:"type"`
	Account string             `json:"account"`
	Name    string             `json:"name,omitempty"` // the receiver's full name; required to bind
	Memo    string             `json:"memo,omitempty"`
}

// TradeRoyaltyRelationBindRequest is the business content of
// alipay.trade.royalty.relation.bind. Binding a receiver already bound
// changes nothing.
type TradeRoyaltyRelationBindRequest struct {
	OutRequestNo string // unique per request at the merchant, 32 characters at most
	Receivers    []RoyaltyReceiver
}

// TradeRoyaltyRelationResult is the answer of
// alipay.trade.royalty.relation.bind and unbind.
type TradeRoyaltyRelationResult struct {
	ResultCode string    `json:"result_code"` // SUCCESS
	Raw        *Response `json:"-"`
}

// TradeRoyaltyRelationUnbindRequest is the business content of
// alipay.trade.royalty.relation.unbind.
type TradeRoyaltyRelationUnbindRequest struct {
	OutRequestNo string
	Receivers    []RoyaltyReceiver // Name is not needed
}

// TradeRoyaltyRelationBatchQueryRequest is the business content of
// alipay.trade.royalty.relation.batchquery: one page of the bound receivers.
type TradeRoyaltyRelationBatchQueryRequest struct {
	OutRequestNo string
	PageNum      int // from 1; 0 means 1
	PageSize     int // 1 to 100; 0 means 20
}

// TradeRoyaltyRelationBatchQueryResult is the answer of
// alipay.trade.royalty.relation.batchquery.
type TradeRoyaltyRelationBatchQueryResult struct {
	ResultCode      string            `json:"result_code"`
	Receivers       []RoyaltyReceiver `json:"receiver_list"` // Type and Account; Name is not answered
	TotalPageNum    int               `json:"total_page_num"`
	TotalRecordNum  int               `json:"total_record_num"`
	CurrentPageNum  int               `json:"current_page_num"`
	CurrentPageSize int               `json:"current_page_size"`
	Raw             *Response         `json:"-"`
}

// RoyaltyParameter is one transfer of a settlement: Amount from the
// merchant (TransOut, "" = the merchant itself) to a bound receiver.
type RoyaltyParameter struct {
	RoyaltyType  string             `json:"royalty_type,omitempty"` // "transfer" (default)
	TransOut     string             `json:"trans_out,omitempty"`
	TransOutType RoyaltyAccountType `json:"trans_out_type,omitempty"`
	TransIn      string             `json:"trans_in"`
	TransInType  RoyaltyAccountType `json:"trans_in_type"`
	Amount       Amount             `json:"amount"`
	Desc         string             `json:"desc,omitempty"`
}

// TradeOrderSettleRequest is the business content of alipay.trade.order.settle:
// part of a paid trade goes to bound receivers.
type TradeOrderSettleRequest struct {
	// OutRequestNo identifies the settlement at the merchant. Store it
	// before the call and send the same request with it on every retry:
	// Alipay settles once (the same number with other parameters is
	// ACQ.DISCORDANT_REPEAT_REQUEST).
	OutRequestNo string
	TradeNo      string // Alipay's trade number of the paid trade
	Royalties    []RoyaltyParameter
	OperatorID   string
}

// TradeOrderSettleResult is the answer of alipay.trade.order.settle.
type TradeOrderSettleResult struct {
	TradeNo  string    `json:"trade_no"`
	SettleNo string    `json:"settle_no"` // Alipay's settlement number, for TradeOrderSettleQuery
	Raw      *Response `json:"-"`
}

// TradeOrderSettleQueryRequest names a settlement for
// alipay.trade.order.settle.query: by SettleNo, or by OutRequestNo with its
// TradeNo.
type TradeOrderSettleQueryRequest struct {
	SettleNo     string
	OutRequestNo string
	TradeNo      string
}

// RoyaltyDetail is one transfer of a settlement as Alipay reports it.
type RoyaltyDetail struct {
	OperationType string             `json:"operation_type"` // transfer
	ExecuteDt     time.Time          `json:"-"`
	TransOut      string             `json:"trans_out"`
	TransOutType  RoyaltyAccountType `json:"trans_out_type"`
	TransIn       string             `json:"trans_in"`
	TransInType   RoyaltyAccountType `json:"trans_in_type"`
	Amount        Amount             `json:"amount"`
	State         string             `json:"state"` // SUCCESS, FAIL, PROCESSING
	DetailID      string             `json:"detail_id"`
	ErrorCode     string             `json:"error_code"`
	ErrorDesc     string             `json:"error_desc"`
}

// TradeOrderSettleQueryResult is the answer of alipay.trade.order.settle.query.
type TradeOrderSettleQueryResult struct {
	OutRequestNo string          `json:"out_request_no"`
	OperationDt  time.Time       `json:"-"`
	Details      []RoyaltyDetail `json:"-"`
	Raw          *Response       `json:"-"`
}

// SubCodeTradeSettleError is settle.query's answer for a settlement it does
// not know (and settle's for a trade that cannot be settled).
const SubCodeTradeSettleError SubCode = "ACQ.TRADE_SETTLE_ERROR"

// IsSettleNotExist reports whether err says the queried settlement does not
// exist at Alipay.
func IsSettleNotExist(err error) bool {
	return HasSubCode(err, SubCodeTradeSettleError) || HasSubCode(err, SubCodeTradeNotExist)
}
