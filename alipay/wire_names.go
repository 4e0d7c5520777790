package alipay

// The protocol's data lives in package wire (alipay/wire): requests,
// results, amounts, times, codes, states, errors, raw answers,
// notifications and forms. The names below make them this package's own
// too, so that a program that calls Alipay needs one import, while code
// that only speaks the protocol's language (the shop's domain) imports
// wire alone and, with it, no HTTP. Each type is the very same type as
// wire's, each constant and error the same value, and each function calls
// wire's.

import (
	"time"

	"alishop/alipay/wire"
)

// From wire/agreement.go.
type (
	AgreementStatus          = wire.AgreementStatus
	PeriodRule               = wire.PeriodRule
	AgreementPageSignRequest = wire.AgreementPageSignRequest
	AgreementRef             = wire.AgreementRef
	Agreement                = wire.Agreement
	AgreementUnsignRequest   = wire.AgreementUnsignRequest
	AgreementUnsignResult    = wire.AgreementUnsignResult
	AgreementNotification    = wire.AgreementNotification
)

const (
	PersonalProductCyclePay       = wire.PersonalProductCyclePay
	ProductCodeCyclePay           = wire.ProductCodeCyclePay
	PersonalProductWithholding    = wire.PersonalProductWithholding
	ProductCodeWithholding        = wire.ProductCodeWithholding
	AgreementTemp                 = wire.AgreementTemp
	AgreementNormal               = wire.AgreementNormal
	AgreementStop                 = wire.AgreementStop
	AgreementUnsign               = wire.AgreementUnsign
	SubCodeAgreementNotExist      = wire.SubCodeAgreementNotExist
	SubCodeTradeAgreementNotExist = wire.SubCodeTradeAgreementNotExist
	SubCodeAgreementStatusInvalid = wire.SubCodeAgreementStatusInvalid
	NotifyTypeAgreementSign       = wire.NotifyTypeAgreementSign
	NotifyTypeAgreementUnsign     = wire.NotifyTypeAgreementUnsign
)

// IsAgreementNotExist reports whether err says the agreement does not exist.
func IsAgreementNotExist(err error) bool { return wire.IsAgreementNotExist(err) }

// IsAgreementNotification reports whether a notification's form (the raw
// POST body) is about an agreement (dut_user_sign or dut_user_unsign)
// rather than a trade. Agreements and payments may share one notify_url.
// It only looks: verify with VerifyAgreementNotification.
func IsAgreementNotification(form []byte) bool { return wire.IsAgreementNotification(form) }

// From wire/amount.go.
type (
	Amount = wire.Amount
)

const (
	MaxAmount = wire.MaxAmount
)

var (
	ErrAmount = wire.ErrAmount
)

// ParseAmount parses a yuan string such as "88.88", "13.5" or "100" into fen.
// It rejects signs, exponents, more than two decimals and empty input.
// Zero is accepted here; use [Amount.Valid] for a trade amount.
func ParseAmount(s string) (Amount, error) { return wire.ParseAmount(s) }

// MustAmount is like ParseAmount but panics on a bad literal; for constants in tests and examples.
func MustAmount(s string) Amount { return wire.MustAmount(s) }

// From wire/apppay.go.
type (
	TradeAppPayRequest = wire.TradeAppPayRequest
	TradeAppPayResult  = wire.TradeAppPayResult
)

// From wire/call.go.
type (
	CallRequest = wire.CallRequest
	API         = wire.API
)

const (
	APIv2 = wire.APIv2
	APIv3 = wire.APIv3
)

// From wire/facetoface.go.
type (
	FaceToFacePayRequest = wire.FaceToFacePayRequest
	FaceToFaceStatus     = wire.FaceToFaceStatus
	FaceToFacePayResult  = wire.FaceToFacePayResult
)

const (
	DefaultFaceToFaceWait         = wire.DefaultFaceToFaceWait
	DefaultFaceToFacePollInterval = wire.DefaultFaceToFacePollInterval
	FaceToFaceStatusPaid          = wire.FaceToFaceStatusPaid
	FaceToFaceStatusClosed        = wire.FaceToFaceStatusClosed
	FaceToFaceStatusCancelled     = wire.FaceToFaceStatusCancelled
)

// From wire/form.go.
type (
	Rule = wire.Rule
)

const (
	RuleV1               = wire.RuleV1
	RuleV2               = wire.RuleV2
	RuleV2KeepWhitespace = wire.RuleV2KeepWhitespace
	RuleV2KeepEmpty      = wire.RuleV2KeepEmpty
)

var (
	ErrMultiValued = wire.ErrMultiValued
)

// SignContent returns the string to sign of params under rule (for
// example RuleV2 for a request, RuleV1 for a notification). It is the one
// sort-and-join builder of this package.
func SignContent(params map[string]string, rule Rule) []byte { return wire.SignContent(params, rule) }

// ParseForm decodes a form body exactly once ('+' is a space, %2B a plus),
// rejecting malformed escapes, semicolon separators and keys given more than
// once. It accepts what url.ParseQuery accepts, with the same result.
func ParseForm(body string) (map[string]string, error) { return wire.ParseForm(body) }

// EncodeForm encodes params as a form, keys sorted, exactly as
// url.Values.Encode does (space as '+').
func EncodeForm(params map[string]string) string { return wire.EncodeForm(params) }

// From wire/fund.go.
type (
	IdentityType                = wire.IdentityType
	TransferStatus              = wire.TransferStatus
	Participant                 = wire.Participant
	FundTransUniTransferRequest = wire.FundTransUniTransferRequest
	FundTransUniTransferResult  = wire.FundTransUniTransferResult
	FundTransCommonQueryRequest = wire.FundTransCommonQueryRequest
	FundTransCommonQueryResult  = wire.FundTransCommonQueryResult
	FundAccountQueryRequest     = wire.FundAccountQueryRequest
	FundAccountQueryResult      = wire.FundAccountQueryResult
	DataBillBalanceQueryRequest = wire.DataBillBalanceQueryRequest
	DataBillBalanceQueryResult  = wire.DataBillBalanceQueryResult
)

const (
	ProductCodeTransAccountNoPwd    = wire.ProductCodeTransAccountNoPwd
	BizSceneDirectTransfer          = wire.BizSceneDirectTransfer
	IdentityUserID                  = wire.IdentityUserID
	IdentityLogonID                 = wire.IdentityLogonID
	TransferStatusSuccess           = wire.TransferStatusSuccess
	TransferStatusFail              = wire.TransferStatusFail
	TransferStatusDealing           = wire.TransferStatusDealing
	TransferStatusRefund            = wire.TransferStatusRefund
	SubCodePayerBalanceNotEnough    = wire.SubCodePayerBalanceNotEnough
	SubCodePayeeNotExist            = wire.SubCodePayeeNotExist
	SubCodePayeeUserInfoError       = wire.SubCodePayeeUserInfoError
	SubCodePaymentInfoInconsistency = wire.SubCodePaymentInfoInconsistency
	SubCodeTransferMinAmount        = wire.SubCodeTransferMinAmount
	SubCodeOrderNotExist            = wire.SubCodeOrderNotExist
	SubCodeFundSystemError          = wire.SubCodeFundSystemError
	MinTransferAmount               = wire.MinTransferAmount
	AccountTypeAcctrans             = wire.AccountTypeAcctrans
)

// From wire/header.go: the type of Response.Header.
type Header = wire.Header

// From wire/notify.go.
type (
	Notification  = wire.Notification
	Expect        = wire.Expect
	MismatchError = wire.MismatchError
)

const (
	MaxNotifyBody = wire.MaxNotifyBody
)

var (
	ErrCharset         = wire.ErrCharset
	ErrBadNotification = wire.ErrBadNotification
)

// From wire/oauth.go.
type (
	Scope                   = wire.Scope
	AuthorizeRequest        = wire.AuthorizeRequest
	GrantType               = wire.GrantType
	SystemOauthTokenRequest = wire.SystemOauthTokenRequest
	SystemOauthTokenResult  = wire.SystemOauthTokenResult
	UserInfo                = wire.UserInfo
)

const (
	ScopeAuthBase              = wire.ScopeAuthBase
	ScopeAuthUser              = wire.ScopeAuthUser
	MaxStateLen                = wire.MaxStateLen
	GrantAuthorizationCode     = wire.GrantAuthorizationCode
	GrantRefreshToken          = wire.GrantRefreshToken
	SubCodeCodeInvalid         = wire.SubCodeCodeInvalid
	SubCodeRefreshTokenInvalid = wire.SubCodeRefreshTokenInvalid
	SubCodeRefreshTokenTimeOut = wire.SubCodeRefreshTokenTimeOut
	SubCodeInvalidAuthToken    = wire.SubCodeInvalidAuthToken
	SubCodeAuthTokenTimeOut    = wire.SubCodeAuthTokenTimeOut
)

// IsAuthTokenInvalid reports whether err says the access token given to
// UserInfoShare is unknown or expired (v2 or v3 spelling): refresh it, or
// send the buyer to the authorize page again.
func IsAuthTokenInvalid(err error) bool { return wire.IsAuthTokenInvalid(err) }

// MaskUserID masks an Alipay user id for showing it (2088****1234): the
// first and last four digits stay.
func MaskUserID(id string) string { return wire.MaskUserID(id) }

// From wire/outcome.go.
type (
	Outcome = wire.Outcome
)

const (
	OutcomeOK             = wire.OutcomeOK
	OutcomeBusinessError  = wire.OutcomeBusinessError
	OutcomeGatewayError   = wire.OutcomeGatewayError
	OutcomeUnknown        = wire.OutcomeUnknown
	OutcomeTransportError = wire.OutcomeTransportError
)

// OutcomeOf classifies the error a call returned; nil is OutcomeOK. An
// error that is not from a call (a parameter the client refused) is
// OutcomeGatewayError: nothing was changed. Both OutcomeUnknown and
// OutcomeTransportError leave the effect unknown (IsUnknownOutcome).
func OutcomeOf(err error) Outcome { return wire.OutcomeOf(err) }

// From wire/response.go.
type (
	Code        = wire.Code
	SubCode     = wire.SubCode
	Error       = wire.Error
	RawResponse = wire.RawResponse
	Response    = wire.Response
)

const (
	CodeSuccess             = wire.CodeSuccess
	CodeUserPaying          = wire.CodeUserPaying
	CodeUnavailable         = wire.CodeUnavailable
	CodeBusinessFailed      = wire.CodeBusinessFailed
	SubCodeTradeNotExist    = wire.SubCodeTradeNotExist
	SubCodeTradeStatusError = wire.SubCodeTradeStatusError
	SubCodeSystemError      = wire.SubCodeSystemError
	SubCodeBillNotExist     = wire.SubCodeBillNotExist
)

var (
	ErrUnknownOutcome = wire.ErrUnknownOutcome
	ErrUnsigned       = wire.ErrUnsigned
	ErrBadResponse    = wire.ErrBadResponse
	ErrDuplicateNode  = wire.ErrDuplicateNode
	ErrSignature      = wire.ErrSignature
)

// IsUnknownOutcome reports whether err leaves the call's effect unknown, so
// the caller must retry with the same parameters or query before deciding.
func IsUnknownOutcome(err error) bool { return wire.IsUnknownOutcome(err) }

// ResponseNode returns the response key of a method: "alipay.trade.query" →
// "alipay_trade_query_response".
func ResponseNode(method string) string { return wire.ResponseNode(method) }

// ExtractResponse locates the response node of method in body without
// re-serialising anything. It falls back to "error_response" when the method
// node is absent, and rejects a body in which any top-level key repeats.
func ExtractResponse(body []byte, method string) (*RawResponse, error) {
	return wire.ExtractResponse(body, method)
}

// ResponseOf returns the answer an error of a call followed, or nil when the
// call failed before one was received (a bad parameter, a network error).
func ResponseOf(err error) *Response { return wire.ResponseOf(err) }

// From wire/royalty.go.
type (
	RoyaltyAccountType                    = wire.RoyaltyAccountType
	RoyaltyReceiver                       = wire.RoyaltyReceiver
	TradeRoyaltyRelationBindRequest       = wire.TradeRoyaltyRelationBindRequest
	TradeRoyaltyRelationResult            = wire.TradeRoyaltyRelationResult
	TradeRoyaltyRelationUnbindRequest     = wire.TradeRoyaltyRelationUnbindRequest
	TradeRoyaltyRelationBatchQueryRequest = wire.TradeRoyaltyRelationBatchQueryRequest
	TradeRoyaltyRelationBatchQueryResult  = wire.TradeRoyaltyRelationBatchQueryResult
	RoyaltyParameter                      = wire.RoyaltyParameter
	TradeOrderSettleRequest               = wire.TradeOrderSettleRequest
	TradeOrderSettleResult                = wire.TradeOrderSettleResult
	TradeOrderSettleQueryRequest          = wire.TradeOrderSettleQueryRequest
	RoyaltyDetail                         = wire.RoyaltyDetail
	TradeOrderSettleQueryResult           = wire.TradeOrderSettleQueryResult
)

const (
	RoyaltyUserID                   = wire.RoyaltyUserID
	RoyaltyLoginName                = wire.RoyaltyLoginName
	SubCodeRoyaltyReceiverInvalid   = wire.SubCodeRoyaltyReceiverInvalid
	SubCodeAllocAmountValidateError = wire.SubCodeAllocAmountValidateError
	SubCodeDiscordantRepeatRequest  = wire.SubCodeDiscordantRepeatRequest
	SubCodeUserNotExist             = wire.SubCodeUserNotExist
	SubCodeTradeSettleError         = wire.SubCodeTradeSettleError
)

// IsSettleNotExist reports whether err says the queried settlement does not
// exist at Alipay.
func IsSettleNotExist(err error) bool { return wire.IsSettleNotExist(err) }

// From wire/timefmt.go.
const (
	TimeLayout = wire.TimeLayout
)

var (
	Beijing = wire.Beijing
)

// FormatTime formats t as Alipay expects: "2006-01-02 15:04:05" in Beijing time.
func FormatTime(t time.Time) string { return wire.FormatTime(t) }

// ParseTime parses an Alipay time stamp in Beijing time. It accepts the
// millisecond form used by gmt_refund ("2021-07-14 09:51:36.631").
func ParseTime(s string) (time.Time, error) { return wire.ParseTime(s) }

// From wire/trade.go.
type (
	ProductCode                    = wire.ProductCode
	TradeStatus                    = wire.TradeStatus
	TradePagePayRequest            = wire.TradePagePayRequest
	TradePrecreateRequest          = wire.TradePrecreateRequest
	TradePrecreateResult           = wire.TradePrecreateResult
	TradeCreateRequest             = wire.TradeCreateRequest
	TradeCreateResult              = wire.TradeCreateResult
	TradeQueryRequest              = wire.TradeQueryRequest
	TradeQueryResult               = wire.TradeQueryResult
	TradeRefundRequest             = wire.TradeRefundRequest
	TradeRefundResult              = wire.TradeRefundResult
	TradeFastPayRefundQueryRequest = wire.TradeFastPayRefundQueryRequest
	RefundStatus                   = wire.RefundStatus
	TradeFastPayRefundQueryResult  = wire.TradeFastPayRefundQueryResult
	TradeCloseRequest              = wire.TradeCloseRequest
	TradeCloseResult               = wire.TradeCloseResult
	TradeCancelRequest             = wire.TradeCancelRequest
	CancelAction                   = wire.CancelAction
	TradeCancelResult              = wire.TradeCancelResult
	BillDownloadURLQueryRequest    = wire.BillDownloadURLQueryRequest
	BillDownloadURLQueryResult     = wire.BillDownloadURLQueryResult
)

const (
	ProductCodePagePay      = wire.ProductCodePagePay
	ProductCodeWapPay       = wire.ProductCodeWapPay
	ProductCodeQRCode       = wire.ProductCodeQRCode
	ProductCodeFaceToFace   = wire.ProductCodeFaceToFace
	ProductCodeAppPay       = wire.ProductCodeAppPay
	TradeStatusWaitBuyerPay = wire.TradeStatusWaitBuyerPay
	TradeStatusSuccess      = wire.TradeStatusSuccess
	TradeStatusFinished     = wire.TradeStatusFinished
	TradeStatusClosed       = wire.TradeStatusClosed
	RefundStatusSuccess     = wire.RefundStatusSuccess
	CancelActionClose       = wire.CancelActionClose
	CancelActionRefund      = wire.CancelActionRefund
)

var (
	ErrInvalidParam = wire.ErrInvalidParam
)

// IsTradeNotExist reports whether err is Alipay's ACQ.TRADE_NOT_EXIST.
func IsTradeNotExist(err error) bool { return wire.IsTradeNotExist(err) }

// HasSubCode reports whether err is a verified *Error with the given sub_code.
func HasSubCode(err error, subCode SubCode) bool { return wire.HasSubCode(err, subCode) }

// From wire/tradepay.go.
type (
	Scene           = wire.Scene
	TradePayRequest = wire.TradePayRequest
	TradePayResult  = wire.TradePayResult
)

const (
	SceneBarCode      = wire.SceneBarCode
	SceneSecurityCode = wire.SceneSecurityCode
)
