package alipay

// 分账: binding receivers (alipay.trade.royalty.relation.bind / unbind /
// batchquery), splitting a paid trade among them (alipay.trade.order.settle)
// and reading a split back (alipay.trade.order.settle.query). See
// docs/PROTOCOL.md.

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"
)

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

type relationBiz struct {
	OutRequestNo string            `json:"out_request_no"`
	ReceiverList []RoyaltyReceiver `json:"receiver_list"`
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
