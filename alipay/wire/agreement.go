package wire

import "time"

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
	var buf [32]Pair
	pairs, err := ParsePairs(string(form), buf[:0])
	if err != nil {
		return false
	}
	for _, p := range pairs {
		if p.Key == "notify_type" {
			return p.Value == NotifyTypeAgreementSign || p.Value == NotifyTypeAgreementUnsign
		}
	}
	return false
}
