package sandbox

// 分账: alipay.trade.royalty.relation.bind / unbind / batchquery bind the
// receivers of an app; alipay.trade.order.settle pays part of a paid trade
// to bound receivers from the merchant's balance;
// alipay.trade.order.settle.query reads a settlement back.

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"alishop/alipay"
)

// relationSet is the receivers an app has bound, by user id.
type relationSet struct {
	AppID     string                  `json:"app_id"`
	Receivers map[string]*relationRec `json:"receivers"`
}

type relationRec struct {
	UserID string    `json:"user_id"`
	Login  string    `json:"login"`
	Name   string    `json:"name"`
	Memo   string    `json:"memo,omitempty"`
	Bound  time.Time `json:"bound"`
}

// settleRec is one accepted settlement of a trade.
type settleRec struct {
	OutRequestNo string          `json:"out_request_no"`
	SettleNo     string          `json:"settle_no"`
	OperatorID   string          `json:"operator_id,omitempty"`
	At           time.Time       `json:"operation_dt"`
	Details      []*settleDetail `json:"details"`
	Params       string          `json:"params"` // the royalty_parameters as sent, to recognise a repeat
}

type settleDetail struct {
	DetailID    string        `json:"detail_id"`
	TransIn     string        `json:"trans_in"` // user id
	TransInType string        `json:"trans_in_type"`
	Amount      alipay.Amount `json:"amount"`
	Desc        string        `json:"desc,omitempty"`
}

func (s *Sandbox) persistRelations(rs *relationSet) { s.persist("relations", rs.AppID, rs) }

func (s *Sandbox) loadRelations(_ string, v []byte) error {
	rs := &relationSet{}
	if err := json.Unmarshal(v, rs); err != nil {
		return err
	}
	if rs.Receivers == nil {
		rs.Receivers = map[string]*relationRec{}
	}
	s.funds.relations[rs.AppID] = rs
	return nil
}

// royaltyAccount resolves a 分账 party: typ userId (2088…) or loginName.
// Callers hold s.mu.
func (s *Sandbox) royaltyAccount(typ, account string) *account {
	switch typ {
	case string(alipay.RoyaltyUserID), "":
		return s.accountByID(account)
	case string(alipay.RoyaltyLoginName):
		return s.accounts[account]
	}
	return nil
}

type receiverIn struct {
	Type    string `json:"type"`
	Account string `json:"account"`
	Name    string `json:"name"`
	Memo    string `json:"memo"`
}

// receivers reads receiver_list, or answers why it cannot.
func (s *Sandbox) receivers(req *gwReq) ([]receiverIn, *node) {
	no, _ := req.bizString("out_request_no")
	if no == "" || len(no) > 32 {
		return nil, invalidParam("out_request_no 必填，且不超过 32 位")
	}
	var list []receiverIn
	if raw, ok := req.biz["receiver_list"]; !ok || json.Unmarshal(raw, &list) != nil {
		return nil, invalidParam("receiver_list 应为分账收款方列表")
	}
	if len(list) == 0 || len(list) > 20 {
		return nil, invalidParam("receiver_list 应有 1 至 20 个分账收款方")
	}
	for _, r := range list {
		if r.Type != string(alipay.RoyaltyUserID) && r.Type != string(alipay.RoyaltyLoginName) {
			return nil, invalidParam("分账收款方类型参数非法: " + r.Type)
		}
	}
	return list, nil
}

func (s *Sandbox) relationsOf(appID string) *relationSet {
	rs := s.funds.relations[appID]
	if rs == nil {
		rs = &relationSet{AppID: appID, Receivers: map[string]*relationRec{}}
		s.funds.relations[appID] = rs
	}
	return rs
}

func (s *Sandbox) relationBind(req *gwReq, now time.Time) *node {
	list, n := s.receivers(req)
	if n != nil {
		return n
	}
	accts := make([]*account, len(list))
	for i, r := range list {
		if accts[i] = s.royaltyAccount(r.Type, r.Account); accts[i] == nil {
			return bizErr("ACQ.USER_NOT_EXIST", "分账接收方不存在: "+r.Account)
		}
		if r.Name == "" {
			return invalidParam("绑定分账关系时 name 必填")
		}
	}
	rs := s.relationsOf(req.app.AppID)
	for i, r := range list {
		if rs.Receivers[accts[i].UserID] == nil {
			rs.Receivers[accts[i].UserID] = &relationRec{UserID: accts[i].UserID, Login: accts[i].Login, Name: r.Name, Memo: r.Memo, Bound: now}
		}
	}
	s.persistRelations(rs)
	return okNode().str("result_code", "SUCCESS")
}

func (s *Sandbox) relationUnbind(req *gwReq, _ time.Time) *node {
	list, n := s.receivers(req)
	if n != nil {
		return n
	}
	rs := s.relationsOf(req.app.AppID)
	for _, r := range list {
		if acct := s.royaltyAccount(r.Type, r.Account); acct != nil {
			delete(rs.Receivers, acct.UserID)
		}
	}
	s.persistRelations(rs)
	return okNode().str("result_code", "SUCCESS")
}

// bizInt reads an integer field sent as a JSON number or a string; def
// when absent.
func (req *gwReq) bizInt(k string, def int) (int, bool) {
	v, ok := req.bizString(k)
	if !ok {
		return 0, false
	}
	if v == "" {
		return def, true
	}
	i, err := strconv.Atoi(v)
	return i, err == nil
}

func (s *Sandbox) relationBatchQuery(req *gwReq, _ time.Time) *node {
	page, ok1 := req.bizInt("page_num", 1)
	size, ok2 := req.bizInt("page_size", 20)
	if !ok1 || !ok2 || page < 1 || size < 1 || size > 100 {
		return invalidParam("page_num 从 1 起, page_size 为 1 至 100")
	}
	rs := s.relationsOf(req.app.AppID)
	all := make([]*relationRec, 0, len(rs.Receivers))
	for _, r := range rs.Receivers {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b *relationRec) int {
		if c := a.Bound.Compare(b.Bound); c != 0 {
			return c
		}
		return strings.Compare(a.UserID, b.UserID)
	})
	type entry struct {
		Account string `json:"account"`
		Memo    string `json:"memo,omitempty"`
		Type    string `json:"type"`
	}
	list := []entry{}
	for i := (page - 1) * size; i < len(all) && i < page*size; i++ {
		list = append(list, entry{Account: all[i].UserID, Memo: all[i].Memo, Type: string(alipay.RoyaltyUserID)})
	}
	b := marshalRaw(list)
	pages := (len(all) + size - 1) / size
	return okNode().str("result_code", "SUCCESS").raw("receiver_list", b).
		raw("total_page_num", []byte(strconv.Itoa(pages))).raw("total_record_num", []byte(strconv.Itoa(len(all)))).
		raw("current_page_num", []byte(strconv.Itoa(page))).raw("current_page_size", []byte(strconv.Itoa(size)))
}

type royaltyIn struct {
	RoyaltyType  string          `json:"royalty_type"`
	TransOut     string          `json:"trans_out"`
	TransOutType string          `json:"trans_out_type"`
	TransIn      string          `json:"trans_in"`
	TransInType  string          `json:"trans_in_type"`
	Amount       json.RawMessage `json:"amount"`
	Desc         string          `json:"desc"`
}

// newSettleNo returns a settlement number: 32 digits, yyyyMMdd (Beijing) +
// 0015 + 20 digits.
func newSettleNo(now time.Time) string {
	return now.In(alipay.Beijing).Format("20060102") + "0015" + randDigits(20)
}

func settleErr(tradeNo, sub, msg string) *node { return bizErr(sub, msg).str("trade_no", tradeNo) }

func (s *Sandbox) orderSettle(req *gwReq, now time.Time) *node {
	no, _ := req.bizString("out_request_no")
	if no == "" || len(no) > 64 {
		return invalidParam("out_request_no 必填，且不超过 64 位")
	}
	tradeNo, _ := req.bizString("trade_no")
	params := req.biz["royalty_parameters"]
	var royalties []royaltyIn
	if json.Unmarshal(params, &royalties) != nil || len(royalties) == 0 || len(royalties) > 50 {
		return invalidParam("royalty_parameters 应有 1 至 50 条分账明细")
	}
	t := s.byNo[tradeNo]
	if t == nil || t.AppID != req.app.AppID || t.Status == "" {
		return settleErr(tradeNo, "ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	s.expireDue(t, now)
	opID, _ := req.bizString("operator_id")
	sent := string(params)
	for _, st := range t.Settles {
		if st.OutRequestNo == no {
			if st.Params != sent {
				return settleErr(tradeNo, "ACQ.DISCORDANT_REPEAT_REQUEST", "不一致的请求")
			}
			return okNode().str("settle_no", st.SettleNo).str("trade_no", t.TradeNo)
		}
	}
	if t.Paid.IsZero() {
		return settleErr(tradeNo, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
	}
	rs := s.relationsOf(req.app.AppID)
	var sum alipay.Amount
	details := make([]*settleDetail, 0, len(royalties))
	for _, r := range royalties {
		if r.RoyaltyType != "" && r.RoyaltyType != "transfer" {
			return invalidParam("沙箱仅支持 royalty_type=transfer")
		}
		if r.TransOut != "" && (r.TransOut != req.app.SellerID || (r.TransOutType != "" && r.TransOutType != string(alipay.RoyaltyUserID))) {
			return invalidParam("trans_out 应为本应用商户的 PID (trans_out_type=userId)")
		}
		amt, err := alipay.ParseAmount(strings.Trim(string(r.Amount), `"`))
		if err != nil || !amt.Valid() {
			return invalidParam("分账金额无效: " + string(r.Amount))
		}
		acct := s.royaltyAccount(r.TransInType, r.TransIn)
		if acct == nil || rs.Receivers[acct.UserID] == nil {
			return settleErr(tradeNo, "ACQ.ROYALTY_RECEIVER_INVALID", "收入方不在分账关系内: "+r.TransIn)
		}
		sum += amt
		details = append(details, &settleDetail{DetailID: randDigits(24), TransIn: acct.UserID, TransInType: string(alipay.RoyaltyUserID), Amount: amt, Desc: r.Desc})
	}
	if sum > t.TotalAmount-t.Refunded-t.Settled {
		return settleErr(tradeNo, "ACQ.ALLOC_AMOUNT_VALIDATE_ERROR", "分账金额超过最大可分账金额")
	}
	m := s.merchantOf(req.app.AppID)
	if m.Balance < sum {
		return settleErr(tradeNo, "ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足")
	}
	m.Balance -= sum
	for _, d := range details {
		s.accountByID(d.TransIn).Balance += d.Amount
	}
	st := &settleRec{OutRequestNo: no, SettleNo: newSettleNo(now), OperatorID: opID, At: now, Details: details, Params: sent}
	t.Settles = append(t.Settles, st)
	t.Settled += sum
	s.funds.settles[st.SettleNo] = t
	s.persistTrade(t)
	s.persistMeta()
	return okNode().str("settle_no", st.SettleNo).str("trade_no", t.TradeNo)
}

func (s *Sandbox) orderSettleQuery(req *gwReq, _ time.Time) *node {
	settleNo, _ := req.bizString("settle_no")
	no, _ := req.bizString("out_request_no")
	tradeNo, _ := req.bizString("trade_no")
	var t *trade
	var st *settleRec
	switch {
	case settleNo != "":
		t = s.funds.settles[settleNo]
		if t != nil && t.AppID == req.app.AppID {
			for _, x := range t.Settles {
				if x.SettleNo == settleNo {
					st = x
				}
			}
		}
	case no != "" && tradeNo != "":
		t = s.byNo[tradeNo]
		if t == nil || t.AppID != req.app.AppID {
			return settleErr(tradeNo, "ACQ.TRADE_NOT_EXIST", "交易不存在")
		}
		for _, x := range t.Settles {
			if x.OutRequestNo == no {
				st = x
			}
		}
	default:
		return invalidParam("settle_no 与 out_request_no + trade_no 不能同时为空")
	}
	if st == nil {
		return bizErr("ACQ.TRADE_SETTLE_ERROR", "分账单据不存在")
	}
	type detail struct {
		Amount        alipay.Amount `json:"amount"`
		DetailID      string        `json:"detail_id"`
		ExecuteDt     string        `json:"execute_dt"`
		OperationType string        `json:"operation_type"`
		State         string        `json:"state"`
		TransIn       string        `json:"trans_in"`
		TransInType   string        `json:"trans_in_type"`
		TransOut      string        `json:"trans_out"`
		TransOutType  string        `json:"trans_out_type"`
	}
	seller := req.app.SellerID
	list := make([]detail, 0, len(st.Details))
	for _, d := range st.Details {
		list = append(list, detail{Amount: d.Amount, DetailID: d.DetailID, ExecuteDt: alipay.FormatTime(st.At), OperationType: "transfer",
			State: "SUCCESS", TransIn: d.TransIn, TransInType: d.TransInType, TransOut: seller, TransOutType: string(alipay.RoyaltyUserID)})
	}
	b := marshalRaw(list)
	return okNode().str("operation_dt", alipay.FormatTime(st.At)).str("out_request_no", st.OutRequestNo).raw("royalty_detail_list", b)
}
