package alipay

// Withholding agreements (商家扣款 / 周期扣款): the buyer signs an agreement
// on Alipay's sign page (alipay.user.agreement.page.sign), after which the
// merchant charges them without a password through alipay.trade.pay with
// agreement_params; alipay.user.agreement.query and .unsign follow and end
// it, and dut_user_sign / dut_user_unsign notifications report both ends.
// See docs/PROTOCOL.md, "Agreements".

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Personal product codes (personal_product_code) and the matching product
// codes (product_code) of agreements and their deductions.
const (
	// 周期扣款: periodic charges under a period rule.
	PersonalProductCyclePay             = "CYCLE_PAY_AUTH_P"
	ProductCodeCyclePay     ProductCode = "CYCLE_PAY_AUTH"
	// 商家扣款: charges whenever the merchant needs (后付费, …).
	PersonalProductWithholding             = "GENERAL_WITHHOLDING_P"
	ProductCodeWithholding     ProductCode = "GENERAL_WITHHOLDING"
)

// AgreementStatus is the state of an agreement.
type AgreementStatus string

// Agreement states: TEMP before the buyer signs (the page was opened),
// NORMAL once signed (deductions allowed), STOP while paused (deductions
// refused). UNSIGN is the status dut_user_unsign notifications carry; a
// query of an unsigned agreement answers USER_AGREEMENT_NOT_EXIST.
const (
	AgreementTemp   AgreementStatus = "TEMP"
	AgreementNormal AgreementStatus = "NORMAL"
	AgreementStop   AgreementStatus = "STOP"
	AgreementUnsign AgreementStatus = "UNSIGN"
)

// Sub codes of agreements and deductions.
const (
	// SubCodeAgreementNotExist: query or unsign of an agreement that does
	// not exist (never signed, or unsigned).
	SubCodeAgreementNotExist SubCode = "USER_AGREEMENT_NOT_EXIST"
	// Deduction (alipay.trade.pay with agreement_params) refused: no such
	// agreement, or the agreement is not NORMAL.
	SubCodeTradeAgreementNotExist SubCode = "ACQ.AGREEMENT_NOT_EXIST"
	SubCodeAgreementStatusInvalid SubCode = "ACQ.AGREEMENT_STATUS_NOT_NORMAL"
)

// PeriodRule is the period rule of a 周期扣款 agreement (period_rule_params).
type PeriodRule struct {
	PeriodType string // DAY or MONTH
	Period     int    // every Period days or months
	// ExecuteTime is the first deduction day.
	ExecuteTime   time.Time
	SingleAmount  Amount // the most one deduction takes
	TotalAmount   Amount // optional: the most all deductions take
	TotalPayments int    // optional: the most deductions
}

// AgreementPageSignRequest is alipay.user.agreement.page.sign.
type AgreementPageSignRequest struct {
	// PersonalProductCode defaults to PersonalProductCyclePay (then
	// PeriodRule is required); ProductCode follows it when empty.
	PersonalProductCode string
	ProductCode         ProductCode
	// SignScene is the scene agreed with Alipay, e.g. INDUSTRY|DIGITAL_MEDIA
	// (required with ExternalAgreementNo; default DEFAULT|DEFAULT).
	SignScene string
	// ExternalAgreementNo is the merchant's number of the agreement: up to
	// 32 letters and digits.
	ExternalAgreementNo string
	ExternalLogonID     string // the buyer's account at the merchant, shown on the page
	// Channel is access_params.channel: ALIPAYAPP (default) or QRCODE, …
	Channel    string
	PeriodRule *PeriodRule
	// SignValidityPeriod bounds the agreement, e.g. "12m" or "30d"
	// (default: until unsigned).
	SignValidityPeriod string
	NotifyURL          string // dut_user_sign goes there; default Config.NotifyURL
	ReturnURL          string // where the buyer's browser goes after signing; default Config.ReturnURL
}

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

// AgreementRef names an agreement: by AgreementNo (Alipay's number; then
// the rest is ignored), or by PersonalProductCode with SignScene and
// ExternalAgreementNo, or with AlipayUserID.
type AgreementRef struct {
	AgreementNo         string
	PersonalProductCode string
	SignScene           string
	ExternalAgreementNo string
	AlipayUserID        string
}

func (r AgreementRef) params() (map[string]string, error) {
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

// Agreement is the answer of alipay.user.agreement.query.
type Agreement struct {
	AgreementNo         string          `json:"agreement_no"`
	ExternalAgreementNo string          `json:"external_agreement_no"`
	PersonalProductCode string          `json:"personal_product_code"`
	SignScene           string          `json:"sign_scene"`
	Status              AgreementStatus `json:"status"`
	// PrincipalID is the buyer's user id, AlipayLogonID their masked login.
	PrincipalID     string    `json:"principal_id"`
	AlipayLogonID   string    `json:"alipay_logon_id"`
	ExternalLogonID string    `json:"external_logon_id"`
	SignTime        time.Time `json:"-"`
	ValidTime       time.Time `json:"-"`
	InvalidTime     time.Time `json:"-"`
	Raw             *Response `json:"-"`
}

// UserAgreementQuery calls alipay.user.agreement.query. An agreement that
// does not exist (or was unsigned) is an *Error with
// SubCodeAgreementNotExist (IsAgreementNotExist).
func (c *Client) UserAgreementQuery(ctx context.Context, ref AgreementRef) (*Agreement, error) {
	p, err := ref.params()
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

// IsAgreementNotExist reports whether err says the agreement does not exist.
func IsAgreementNotExist(err error) bool {
	return HasSubCode(err, SubCodeAgreementNotExist) || HasSubCode(err, SubCodeTradeAgreementNotExist)
}

// AgreementUnsignRequest is alipay.user.agreement.unsign.
type AgreementUnsignRequest struct {
	AgreementRef
	NotifyURL string // dut_user_unsign goes there (v2 only); default: the agreement's sign notify_url
}

// AgreementUnsignResult is the answer of alipay.user.agreement.unsign.
type AgreementUnsignResult struct {
	Raw *Response
}

// UserAgreementUnsign ends an agreement (alipay.user.agreement.unsign).
// Repeating it for an agreement already ended answers
// SubCodeAgreementNotExist: after an unknown outcome, query — an agreement
// that no longer exists was unsigned.
func (c *Client) UserAgreementUnsign(ctx context.Context, p AgreementUnsignRequest) (*AgreementUnsignResult, error) {
	biz, err := p.params()
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

// AgreementNotification is a verified agreement notification
// (notify_type dut_user_sign or dut_user_unsign). Times are in Beijing
// time; absent ones are zero.
type AgreementNotification struct {
	NotifyID            string
	NotifyType          string // dut_user_sign or dut_user_unsign
	NotifyTime          time.Time
	AppID               string
	AuthAppID           string
	AgreementNo         string
	ExternalAgreementNo string
	PersonalProductCode string
	SignScene           string
	// Status is AgreementNormal for a signature, AgreementUnsign for an end.
	Status        AgreementStatus
	AlipayUserID  string
	AlipayLogonID string // masked
	SignTime      time.Time
	ValidTime     time.Time
	InvalidTime   time.Time
	UnsignTime    time.Time
	// Params holds every received parameter, sign included.
	Params map[string]string
}

// Notification types of agreements.
const (
	NotifyTypeAgreementSign   = "dut_user_sign"
	NotifyTypeAgreementUnsign = "dut_user_unsign"
)

// IsAgreementNotification reports whether a notification's form (the raw
// POST body) is about an agreement (dut_user_sign or dut_user_unsign)
// rather than a trade. Agreements and payments may share one notify_url.
// It only looks: verify with VerifyAgreementNotification.
func IsAgreementNotification(form []byte) bool {
	var buf [32]formPair
	pairs, err := parseFormPairs(string(form), buf[:0])
	if err != nil {
		return false
	}
	for _, p := range pairs {
		if p.k == "notify_type" {
			return p.v == NotifyTypeAgreementSign || p.v == NotifyTypeAgreementUnsign
		}
	}
	return false
}

// VerifyAgreementNotification verifies an agreement notification with the
// rules of VerifyNotification (the raw POST body, decoded once, signed
// under RuleV1) and parses it. A trade notification is refused
// (ErrBadNotification): check IsAgreementNotification first when both
// arrive at one URL. Acknowledge with AckNotification once stored.
func (c *Client) VerifyAgreementNotification(form []byte) (*AgreementNotification, error) {
	var buf [32]formPair
	pairs, err := parseFormPairs(string(form), buf[:0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadNotification, err)
	}
	params := pairsMap(pairs)
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
