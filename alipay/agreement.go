package alipay

// Withholding agreements (商家扣款 / 周期扣款): the buyer signs an agreement
// on Alipay's sign page (alipay.user.agreement.page.sign), after which the
// merchant charges them without a password through alipay.trade.pay with
// agreement_params; alipay.user.agreement.query and .unsign follow and end
// it, and dut_user_sign / dut_user_unsign notifications report both ends.
// See docs/PROTOCOL.md, "Agreements".

import (
	"alishop/alipay/wire"
	"context"
	"errors"
	"fmt"
	"time"
)

type agreementSignBiz struct {
	PersonalProductCode string           `json:"personal_product_code"`
	ProductCode         ProductCode      `json:"product_code,omitempty"`
	SignScene           string           `json:"sign_scene,omitempty"`
	ExternalAgreementNo string           `json:"external_agreement_no,omitempty"`
	ExternalLogonID     string           `json:"external_logon_id,omitempty"`
	AccessParams        map[string]any   `json:"access_params"`
	PeriodRuleParams    *periodRuleParms `json:"period_rule_params,omitempty"`
	SignValidityPeriod  string           `json:"sign_validity_period,omitempty"`
}

type periodRuleParms struct {
	PeriodType    string  `json:"period_type"`
	Period        int     `json:"period"`
	ExecuteTime   string  `json:"execute_time"`
	SingleAmount  Amount  `json:"single_amount"`
	TotalAmount   *Amount `json:"total_amount,omitempty"`
	TotalPayments int     `json:"total_payments,omitempty"`
}

// agreementNoOK reports whether s is a valid external agreement number.
func agreementNoOK(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// UserAgreementPageSignURL returns the signed GET URL of
// alipay.user.agreement.page.sign: send the buyer's browser to it. No call
// is made; the agreement exists (TEMP) once the page opens and is NORMAL
// once the buyer signs, which dut_user_sign reports.
func (c *Client) UserAgreementPageSignURL(p AgreementPageSignRequest) (string, error) {
	if p.PersonalProductCode == "" {
		p.PersonalProductCode = PersonalProductCyclePay
	}
	if p.ProductCode == "" {
		switch p.PersonalProductCode {
		case PersonalProductCyclePay:
			p.ProductCode = ProductCodeCyclePay
		case PersonalProductWithholding:
			p.ProductCode = ProductCodeWithholding
		}
	}
	if !agreementNoOK(p.ExternalAgreementNo) {
		return "", fmt.Errorf("%w: external_agreement_no: up to 32 letters and digits", ErrInvalidParam)
	}
	if p.ExternalAgreementNo != "" && (p.SignScene == "" || p.SignScene == "DEFAULT|DEFAULT") {
		return "", fmt.Errorf("%w: sign_scene is required (and not DEFAULT|DEFAULT) with external_agreement_no", ErrInvalidParam)
	}
	if p.Channel == "" {
		p.Channel = "ALIPAYAPP"
	}
	biz := agreementSignBiz{PersonalProductCode: p.PersonalProductCode, ProductCode: p.ProductCode, SignScene: p.SignScene,
		ExternalAgreementNo: p.ExternalAgreementNo, ExternalLogonID: p.ExternalLogonID,
		AccessParams: map[string]any{"channel": p.Channel}, SignValidityPeriod: p.SignValidityPeriod}
	if r := p.PeriodRule; r != nil {
		if (r.PeriodType != "DAY" && r.PeriodType != "MONTH") || r.Period < 1 || r.ExecuteTime.IsZero() || !r.SingleAmount.Valid() {
			return "", fmt.Errorf("%w: period rule: DAY or MONTH, a period ≥ 1, an execute time and a single amount", ErrInvalidParam)
		}
		if r.PeriodType == "DAY" && r.Period < 7 {
			return "", fmt.Errorf("%w: period rule: a DAY period is at least 7 days", ErrInvalidParam)
		}
		pr := &periodRuleParms{PeriodType: r.PeriodType, Period: r.Period, ExecuteTime: r.ExecuteTime.In(Beijing).Format("2006-01-02"),
			SingleAmount: r.SingleAmount, TotalPayments: r.TotalPayments}
		if r.TotalAmount != 0 {
			t := r.TotalAmount
			pr.TotalAmount = &t
		}
		biz.PeriodRuleParams = pr
	} else if p.PersonalProductCode == PersonalProductCyclePay {
		return "", fmt.Errorf("%w: a 周期扣款 agreement (CYCLE_PAY_AUTH_P) needs a period rule", ErrInvalidParam)
	}
	extra := map[string]string{"notify_url": p.NotifyURL, "return_url": p.ReturnURL}
	if extra["notify_url"] == "" {
		extra["notify_url"] = c.cfg.NotifyURL
	}
	if extra["return_url"] == "" {
		extra["return_url"] = c.cfg.ReturnURL
	}
	params, err := c.params(request{method: "alipay.user.agreement.page.sign", biz: biz, extra: extra})
	if err != nil {
		return "", err
	}
	return c.gatewayURL(params), nil
}

// agreementRefParams is the business content that names the agreement r.
func agreementRefParams(r AgreementRef) (map[string]string, error) {
	if r.AgreementNo != "" {
		return map[string]string{"agreement_no": r.AgreementNo}, nil
	}
	if r.PersonalProductCode == "" || (r.ExternalAgreementNo == "" && r.AlipayUserID == "") {
		return nil, fmt.Errorf("%w: name the agreement by agreement_no, or personal_product_code with external_agreement_no or alipay_user_id", ErrInvalidParam)
	}
	p := map[string]string{"personal_product_code": r.PersonalProductCode}
	for k, v := range map[string]string{"sign_scene": r.SignScene, "external_agreement_no": r.ExternalAgreementNo, "alipay_user_id": r.AlipayUserID} {
		if v != "" {
			p[k] = v
		}
	}
	return p, nil
}

// UserAgreementQuery calls alipay.user.agreement.query. An agreement that
// does not exist (or was unsigned) is an *Error with
// SubCodeAgreementNotExist (IsAgreementNotExist).
func (c *Client) UserAgreementQuery(ctx context.Context, ref AgreementRef) (*Agreement, error) {
	p, err := agreementRefParams(ref)
	if err != nil {
		return nil, err
	}
	var a Agreement
	w := struct {
		*Agreement
		SignTime    string `json:"sign_time"`
		ValidTime   string `json:"valid_time"`
		InvalidTime string `json:"invalid_time"`
	}{Agreement: &a}
	raw, err := c.do(ctx, request{method: "alipay.user.agreement.query", biz: p}, &w)
	for _, f := range []struct {
		key, v string
		t      *time.Time
	}{{"sign_time", w.SignTime, &a.SignTime}, {"valid_time", w.ValidTime, &a.ValidTime}, {"invalid_time", w.InvalidTime, &a.InvalidTime}} {
		if err == nil && f.v != "" {
			*f.t, err = responseTime(raw, f.key, f.v)
		}
	}
	if err != nil {
		return nil, err
	}
	a.Raw = raw
	return &a, nil
}

// UserAgreementUnsign ends an agreement (alipay.user.agreement.unsign).
// Repeating it for an agreement already ended answers
// SubCodeAgreementNotExist: after an unknown outcome, query — an agreement
// that no longer exists was unsigned.
func (c *Client) UserAgreementUnsign(ctx context.Context, p AgreementUnsignRequest) (*AgreementUnsignResult, error) {
	biz, err := agreementRefParams(p.AgreementRef)
	if err != nil {
		return nil, err
	}
	r := request{method: "alipay.user.agreement.unsign", biz: biz}
	if p.NotifyURL != "" {
		r.extra = map[string]string{"notify_url": p.NotifyURL}
	}
	raw, err := c.do(ctx, r, nil)
	if err != nil {
		return nil, err
	}
	return &AgreementUnsignResult{Raw: raw}, nil
}

// VerifyAgreementNotification verifies an agreement notification with the
// rules of VerifyNotification (the raw POST body, decoded once, signed
// under RuleV1) and parses it. A trade notification is refused
// (ErrBadNotification): check IsAgreementNotification first when both
// arrive at one URL. Acknowledge with AckNotification once stored.
func (c *Client) VerifyAgreementNotification(form []byte) (*AgreementNotification, error) {
	var buf [32]wire.Pair
	pairs, err := wire.ParsePairs(string(form), buf[:0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadNotification, err)
	}
	params := wire.PairsMap(pairs)
	if _, err := c.verifyNotifySignature(pairs, params); err != nil {
		return nil, err
	}
	n := &AgreementNotification{Params: params, NotifyID: params["notify_id"], NotifyType: params["notify_type"],
		AppID: params["app_id"], AuthAppID: params["auth_app_id"], AgreementNo: params["agreement_no"],
		ExternalAgreementNo: params["external_agreement_no"], PersonalProductCode: params["personal_product_code"],
		SignScene: params["sign_scene"], Status: AgreementStatus(params["status"]), AlipayUserID: params["alipay_user_id"],
		AlipayLogonID: params["alipay_logon_id"]}
	var errs []error
	if n.NotifyType != NotifyTypeAgreementSign && n.NotifyType != NotifyTypeAgreementUnsign {
		errs = append(errs, fmt.Errorf("notify_type %q is not an agreement's", n.NotifyType))
	}
	if n.AgreementNo == "" {
		errs = append(errs, errors.New("agreement_no is missing"))
	}
	if n.AppID == "" {
		errs = append(errs, errors.New("app_id is missing"))
	}
	for _, f := range []struct {
		key string
		t   *time.Time
	}{{"notify_time", &n.NotifyTime}, {"sign_time", &n.SignTime}, {"valid_time", &n.ValidTime}, {"invalid_time", &n.InvalidTime}, {"unsign_time", &n.UnsignTime}} {
		if v := params[f.key]; v != "" {
			t, err := ParseTime(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.key, err))
			}
			*f.t = t
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadNotification, err)
	}
	return n, nil
}

// agreementParams is agreement_params of a deduction.
type agreementParams struct {
	AgreementNo string `json:"agreement_no"`
}
