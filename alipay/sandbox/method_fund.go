package sandbox

// alipay.fund.trans.uni.transfer, alipay.fund.trans.common.query,
// alipay.fund.account.query and alipay.data.bill.balance.query: the
// merchant pays a buyer's account from its balance, and reads balances.

import (
	"encoding/json"
	"strings"
	"time"

	"alishop/alipay"
)

// transferRec is an accepted transfer, kept by app and out_biz_no.
type transferRec struct {
	AppID          string        `json:"app_id"`
	OutBizNo       string        `json:"out_biz_no"`
	OrderID        string        `json:"order_id"`
	PayFundOrderID string        `json:"pay_fund_order_id"`
	Amount         alipay.Amount `json:"trans_amount"`
	ProductCode    string        `json:"product_code"`
	BizScene       string        `json:"biz_scene"`
	IdentityType   string        `json:"identity_type"`
	Identity       string        `json:"identity"`
	Name           string        `json:"name,omitempty"`
	PayeeLogin     string        `json:"payee_login"`
	OrderTitle     string        `json:"order_title,omitempty"`
	At             time.Time     `json:"trans_date"`
}

func transferKey(appID, outBizNo string) string { return appID + "\x00" + outBizNo }

func (s *Sandbox) persistTransfer(tr *transferRec) {
	s.persist("transfers", transferKey(tr.AppID, tr.OutBizNo), tr)
}

func (s *Sandbox) loadTransfer(_ string, v []byte) error {
	tr := &transferRec{}
	if err := json.Unmarshal(v, tr); err != nil {
		return err
	}
	s.funds.transfers[transferKey(tr.AppID, tr.OutBizNo)] = tr
	s.funds.byOrderID[tr.OrderID] = tr
	return nil
}

// newFundOrderID returns a transfer order number in the real format: 32
// digits, yyyyMMdd (Beijing) + 110070 + 18 digits.
func newFundOrderID(now time.Time) string {
	return now.In(alipay.Beijing).Format("20060102") + "110070" + randDigits(18)
}

// fundErr is a refused fund call: 40004 with the sub_code as the fund
// APIs write it (no ACQ. prefix), echoing out_biz_no.
func fundErr(outBizNo, sub, msg string) *node {
	return bizErr(sub, msg).str("out_biz_no", outBizNo)
}

// participant is payee_info as sent: an object, or (older SDK samples) a
// JSON string holding one.
type participant struct {
	Identity     string `json:"identity"`
	IdentityType string `json:"identity_type"`
	Name         string `json:"name"`
}

func (req *gwReq) participant(k string) (participant, bool) {
	var p participant
	raw, ok := req.biz[k]
	if !ok {
		return p, false
	}
	if len(raw) > 0 && raw[0] == '"' {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return p, false
		}
		raw = json.RawMessage(str)
	}
	return p, json.Unmarshal(raw, &p) == nil
}

func (s *Sandbox) uniTransfer(req *gwReq, now time.Time) *node {
	outBizNo, _ := req.bizString("out_biz_no")
	if !outTradeNoRe.MatchString(outBizNo) {
		return fundErr(outBizNo, "INVALID_PARAMETER", "参数有误。out_biz_no 仅支持字母、数字、下划线、短横线，且不超过 64 位")
	}
	amount, has, n := req.bizAmount("trans_amount")
	if n != nil || !has {
		return fundErr(outBizNo, "INVALID_PARAMETER", "参数有误。trans_amount 金额无效")
	}
	product, _ := req.bizString("product_code")
	scene, _ := req.bizString("biz_scene")
	if scene == "" {
		scene = alipay.BizSceneDirectTransfer
	}
	if product != string(alipay.ProductCodeTransAccountNoPwd) || scene != alipay.BizSceneDirectTransfer {
		return fundErr(outBizNo, "INVALID_PARAMETER", "参数有误。沙箱仅支持 product_code=TRANS_ACCOUNT_NO_PWD, biz_scene=DIRECT_TRANSFER")
	}
	payee, ok := req.participant("payee_info")
	if !ok || payee.Identity == "" {
		return fundErr(outBizNo, "INVALID_PARAMETER", "参数有误。缺少 payee_info")
	}
	title, _ := req.bizString("order_title")
	if prev := s.funds.transfers[transferKey(req.app.AppID, outBizNo)]; prev != nil {
		if prev.Amount != amount || prev.Identity != payee.Identity || prev.IdentityType != payee.IdentityType || prev.Name != payee.Name {
			return fundErr(outBizNo, "PAYMENT_INFO_INCONSISTENCY", "两次请求商户单号一样，但是参数不一致")
		}
		return transferOK(prev)
	}
	if amount < alipay.MinTransferAmount {
		return fundErr(outBizNo, "EXCEED_LIMIT_SM_MIN_AMOUNT", "单笔最低转账金额0.1元")
	}
	var acct *account
	switch payee.IdentityType {
	case string(alipay.IdentityUserID):
		acct = s.accountByID(payee.Identity)
	case string(alipay.IdentityLogonID):
		if payee.Name == "" {
			return fundErr(outBizNo, "INVALID_PARAMETER", "参数有误。identity_type 为 ALIPAY_LOGON_ID 时 payee_info.name 必填")
		}
		acct = s.accounts[payee.Identity]
	default:
		return fundErr(outBizNo, "INVALID_PARAMETER", "参数有误。identity_type 应为 ALIPAY_USER_ID 或 ALIPAY_LOGON_ID")
	}
	if acct == nil {
		return fundErr(outBizNo, "PAYEE_NOT_EXIST", "收款账号不存在")
	}
	if payee.Name != "" && payee.Name != acct.RealName {
		return fundErr(outBizNo, "PAYEE_USER_INFO_ERROR", "支付宝账号和姓名不匹配，请确认姓名是否正确")
	}
	m := s.merchantOf(req.app.AppID)
	if m.Balance < amount {
		return fundErr(outBizNo, "PAYER_BALANCE_NOT_ENOUGH", "付款方余额不足")
	}
	m.Balance -= amount
	acct.Balance += amount
	tr := &transferRec{AppID: req.app.AppID, OutBizNo: outBizNo, OrderID: newFundOrderID(now), PayFundOrderID: newFundOrderID(now),
		Amount: amount, ProductCode: product, BizScene: scene, IdentityType: payee.IdentityType, Identity: payee.Identity,
		Name: payee.Name, PayeeLogin: acct.Login, OrderTitle: title, At: now}
	s.funds.transfers[transferKey(tr.AppID, outBizNo)] = tr
	s.funds.byOrderID[tr.OrderID] = tr
	s.persistTransfer(tr)
	s.persistMeta()
	return transferOK(tr)
}

func transferOK(tr *transferRec) *node {
	return okNode().str("order_id", tr.OrderID).str("out_biz_no", tr.OutBizNo).str("pay_fund_order_id", tr.PayFundOrderID).
		str("status", string(alipay.TransferStatusSuccess)).str("trans_date", alipay.FormatTime(tr.At))
}

func (s *Sandbox) transferQuery(req *gwReq, _ time.Time) *node {
	orderID, _ := req.bizString("order_id")
	outBizNo, _ := req.bizString("out_biz_no")
	var tr *transferRec
	switch {
	case orderID != "":
		if tr = s.funds.byOrderID[orderID]; tr != nil && tr.AppID != req.app.AppID {
			tr = nil
		}
	case outBizNo != "":
		product, _ := req.bizString("product_code")
		scene, _ := req.bizString("biz_scene")
		if product == "" || scene == "" {
			return fundErr(outBizNo, "INVALID_PARAMETER", "参数有误。传入 out_biz_no 时 product_code 和 biz_scene 必填")
		}
		if tr = s.funds.transfers[transferKey(req.app.AppID, outBizNo)]; tr != nil && (tr.ProductCode != product || tr.BizScene != scene) {
			tr = nil
		}
	default:
		return fundErr("", "INVALID_PARAMETER", "参数有误。out_biz_no 和 order_id 不能同时为空")
	}
	if tr == nil {
		return fundErr(outBizNo, "ORDER_NOT_EXIST", "转账订单不存在")
	}
	return okNode().str("order_id", tr.OrderID).str("out_biz_no", tr.OutBizNo).str("pay_fund_order_id", tr.PayFundOrderID).
		str("status", string(alipay.TransferStatusSuccess)).amt("trans_amount", tr.Amount).str("pay_date", alipay.FormatTime(tr.At))
}

func (s *Sandbox) accountQuery(req *gwReq, _ time.Time) *node {
	userID, _ := req.bizString("alipay_user_id")
	typ, _ := req.bizString("account_type")
	if typ != "" && typ != alipay.AccountTypeAcctrans {
		return bizErr("INVALID_PARAMETER", "参数有误。沙箱仅支持 account_type=ACCTRANS_ACCOUNT")
	}
	if userID != req.app.SellerID {
		return bizErr("INVALID_PARAMETER", "参数有误。alipay_user_id 不是本应用商户的 PID")
	}
	return okNode().amt("available_amount", s.merchantOf(req.app.AppID).Balance).amt("freeze_amount", 0)
}

func (s *Sandbox) billBalance(req *gwReq, _ time.Time) *node {
	if id, _ := req.bizString("bill_user_id"); id != "" && id != req.app.SellerID {
		return bizErr("INVALID_PARAMETER", "参数有误。bill_user_id 不是本应用商户的 PID")
	}
	b := s.merchantOf(req.app.AppID).Balance
	return okNode().amt("available_amount", b).amt("freeze_amount", 0).amt("total_amount", b)
}

// systemError is the answer of a call whose outcome the gateway cannot
// tell: the fund APIs write their sub_code without the ACQ. prefix.
func systemError(method string) *node {
	if strings.HasPrefix(method, "alipay.fund.") {
		return bizErr("SYSTEM_ERROR", "系统繁忙")
	}
	return bizErr("ACQ.SYSTEM_ERROR", "系统错误")
}
