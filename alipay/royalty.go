package alipay

// 分账: binding receivers (alipay.trade.royalty.relation.bind / unbind /
// batchquery), splitting a paid trade among them (alipay.trade.order.settle)
// and reading a split back (alipay.trade.order.settle.query). See
// docs/PROTOCOL.md.

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

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

func checkReceivers(list []RoyaltyReceiver, bind bool) error {
	if len(list) == 0 || len(list) > 20 {
		return fmt.Errorf("%w: receiver_list takes 1 to 20 receivers", ErrInvalidParam)
	}
	for _, r := range list {
		if err := checkRoyaltyAccount(r.Type, r.Account, "receiver"); err != nil {
			return err
		}
		if bind && r.Name == "" {
			return fmt.Errorf("%w: receiver %s: name is required to bind", ErrInvalidParam, r.Account)
		}
		if utf8.RuneCountInString(r.Name) > 64 || utf8.RuneCountInString(r.Memo) > 200 {
			return fmt.Errorf("%w: receiver %s: name is at most 64 characters, memo 200", ErrInvalidParam, r.Account)
		}
	}
	return nil
}

func checkRoyaltyAccount(typ RoyaltyAccountType, account, what string) error {
	switch typ {
	case RoyaltyUserID:
		if !userIDRe.MatchString(account) {
			return fmt.Errorf("%w: %s %q must be a user id: 2088 and 12 digits", ErrInvalidParam, what, account)
		}
	case RoyaltyLoginName:
		if account == "" || len(account) > 100 {
			return fmt.Errorf("%w: %s login must be 1-100 bytes", ErrInvalidParam, what)
		}
	default:
		return fmt.Errorf("%w: %s type %q: want userId or loginName", ErrInvalidParam, what, typ)
	}
	return nil
}

func checkRequestNo(no string) error {
	if len(no) > 32 || !outBizNoRe.MatchString(no) {
		return fmt.Errorf("%w: out_request_no %q must be 1-32 letters, digits, _ or -", ErrInvalidParam, no)
	}
	return nil
}

// TradeRoyaltyRelationBindRequest is the business content of
// alipay.trade.royalty.relation.bind. Binding a receiver already bound
// changes nothing.
type TradeRoyaltyRelationBindRequest struct {
	OutRequestNo string // unique per request at the merchant, 32 characters at most
	Receivers    []RoyaltyReceiver
}

type relationBiz struct {
	OutRequestNo string            `json:"out_request_no"`
	ReceiverList []RoyaltyReceiver `json:"receiver_list"`
}

// TradeRoyaltyRelationResult is the answer of
// alipay.trade.royalty.relation.bind and unbind.
type TradeRoyaltyRelationResult struct {
	ResultCode string    `json:"result_code"` // SUCCESS
	Raw        *Response `json:"-"`
}

// TradeRoyaltyRelationBind calls alipay.trade.royalty.relation.bind: the
// receivers may then be paid by TradeOrderSettle.
func (c *Client) TradeRoyaltyRelationBind(ctx context.Context, p TradeRoyaltyRelationBindRequest) (*TradeRoyaltyRelationResult, error) {
	if err := checkRequestNo(p.OutRequestNo); err != nil {
		return nil, err
	}
	if err := checkReceivers(p.Receivers, true); err != nil {
		return nil, err
	}
	return c.relation(ctx, "alipay.trade.royalty.relation.bind", relationBiz{p.OutRequestNo, p.Receivers})
}

// TradeRoyaltyRelationUnbindRequest is the business content of
// alipay.trade.royalty.relation.unbind.
type TradeRoyaltyRelationUnbindRequest struct {
	OutRequestNo string
	Receivers    []RoyaltyReceiver // Name is not needed
}

// TradeRoyaltyRelationUnbind calls alipay.trade.royalty.relation.unbind:
// the receivers can no longer be paid by TradeOrderSettle.
func (c *Client) TradeRoyaltyRelationUnbind(ctx context.Context, p TradeRoyaltyRelationUnbindRequest) (*TradeRoyaltyRelationResult, error) {
	if err := checkRequestNo(p.OutRequestNo); err != nil {
		return nil, err
	}
	if err := checkReceivers(p.Receivers, false); err != nil {
		return nil, err
	}
	return c.relation(ctx, "alipay.trade.royalty.relation.unbind", relationBiz{p.OutRequestNo, p.Receivers})
}

func (c *Client) relation(ctx context.Context, method string, biz relationBiz) (*TradeRoyaltyRelationResult, error) {
	var r TradeRoyaltyRelationResult
	raw, err := c.do(ctx, request{method: method, biz: biz}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
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

// TradeRoyaltyRelationBatchQuery calls alipay.trade.royalty.relation.batchquery.
func (c *Client) TradeRoyaltyRelationBatchQuery(ctx context.Context, p TradeRoyaltyRelationBatchQueryRequest) (*TradeRoyaltyRelationBatchQueryResult, error) {
	if err := checkRequestNo(p.OutRequestNo); err != nil {
		return nil, err
	}
	if p.PageNum == 0 {
		p.PageNum = 1
	}
	if p.PageSize == 0 {
		p.PageSize = 20
	}
	if p.PageNum < 1 || p.PageSize < 1 || p.PageSize > 100 {
		return nil, fmt.Errorf("%w: page_num from 1, page_size 1 to 100", ErrInvalidParam)
	}
	biz := struct {
		OutRequestNo string `json:"out_request_no"`
		PageNum      int    `json:"page_num"`
		PageSize     int    `json:"page_size"`
	}{p.OutRequestNo, p.PageNum, p.PageSize}
	var r TradeRoyaltyRelationBatchQueryResult
	raw, err := c.do(ctx, request{method: "alipay.trade.royalty.relation.batchquery", biz: biz}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
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

// TradeOrderSettle calls alipay.trade.order.settle. A receiver not bound is
// ACQ.ROYALTY_RECEIVER_INVALID, more than the trade allows (what is paid
// less what was refunded and settled) ACQ.ALLOC_AMOUNT_VALIDATE_ERROR; an
// unknown outcome is settled by TradeOrderSettleQuery with OutRequestNo and
// TradeNo, or by repeating the same request.
func (c *Client) TradeOrderSettle(ctx context.Context, p TradeOrderSettleRequest) (*TradeOrderSettleResult, error) {
	if err := checkRequestNo(p.OutRequestNo); err != nil {
		return nil, err
	}
	if p.TradeNo == "" || len(p.TradeNo) > 64 {
		return nil, fmt.Errorf("%w: trade_no is required", ErrInvalidParam)
	}
	if len(p.Royalties) == 0 || len(p.Royalties) > 50 {
		return nil, fmt.Errorf("%w: royalty_parameters takes 1 to 50 entries", ErrInvalidParam)
	}
	for i, r := range p.Royalties {
		if err := checkRoyaltyAccount(r.TransInType, r.TransIn, "trans_in"); err != nil {
			return nil, err
		}
		if r.TransOut != "" {
			if err := checkRoyaltyAccount(r.TransOutType, r.TransOut, "trans_out"); err != nil {
				return nil, err
			}
		}
		if !r.Amount.Valid() {
			return nil, fmt.Errorf("%w: royalty_parameters[%d].amount %s", ErrInvalidParam, i, r.Amount)
		}
	}
	biz := struct {
		OutRequestNo      string             `json:"out_request_no"`
		TradeNo           string             `json:"trade_no"`
		RoyaltyParameters []RoyaltyParameter `json:"royalty_parameters"`
		OperatorID        string             `json:"operator_id,omitempty"`
	}{p.OutRequestNo, p.TradeNo, p.Royalties, p.OperatorID}
	var r TradeOrderSettleResult
	raw, err := c.do(ctx, request{method: "alipay.trade.order.settle", biz: biz}, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
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

// TradeOrderSettleQuery calls alipay.trade.order.settle.query. A settlement
// Alipay never accepted answers *Error with SubCode ACQ.TRADE_SETTLE_ERROR
// or ACQ.TRADE_NOT_EXIST (IsSettleNotExist): after an unknown outcome that
// means nothing moved, and the same request may be sent again.
func (c *Client) TradeOrderSettleQuery(ctx context.Context, p TradeOrderSettleQueryRequest) (*TradeOrderSettleQueryResult, error) {
	biz := map[string]string{}
	switch {
	case p.SettleNo != "":
		biz["settle_no"] = p.SettleNo
	case p.OutRequestNo != "" && p.TradeNo != "":
		biz["out_request_no"], biz["trade_no"] = p.OutRequestNo, p.TradeNo
	default:
		return nil, fmt.Errorf("%w: give settle_no, or out_request_no and trade_no", ErrInvalidParam)
	}
	type detail struct {
		RoyaltyDetail
		ExecuteDt string `json:"execute_dt"`
	}
	var r TradeOrderSettleQueryResult
	w := struct {
		*TradeOrderSettleQueryResult
		OperationDt string   `json:"operation_dt"`
		Details     []detail `json:"royalty_detail_list"`
	}{TradeOrderSettleQueryResult: &r}
	raw, err := c.do(ctx, request{method: "alipay.trade.order.settle.query", biz: biz}, &w)
	if err == nil {
		r.OperationDt, err = responseTime(raw, "operation_dt", w.OperationDt)
	}
	for i := 0; err == nil && i < len(w.Details); i++ {
		d := w.Details[i].RoyaltyDetail
		d.ExecuteDt, err = responseTime(raw, "royalty_detail_list["+strconv.Itoa(i)+"].execute_dt", w.Details[i].ExecuteDt)
		r.Details = append(r.Details, d)
	}
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return &r, nil
}

// SubCodeTradeSettleError is settle.query's answer for a settlement it does
// not know (and settle's for a trade that cannot be settled).
const SubCodeTradeSettleError SubCode = "ACQ.TRADE_SETTLE_ERROR"

// IsSettleNotExist reports whether err says the queried settlement does not
// exist at Alipay.
func IsSettleNotExist(err error) bool {
	return HasSubCode(err, SubCodeTradeSettleError) || HasSubCode(err, SubCodeTradeNotExist)
}
