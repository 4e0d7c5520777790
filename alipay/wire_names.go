package alipay

// The protocol's data lives in package wire (alipay/wire): requests,
// results, amounts, times, codes, states, errors, raw answers,
// notifications and forms. The names below make them this package's own
// too, so that a program that calls Alipay needs one import, while code
// that only speaks the protocol's language (the shop's domain) imports
// wire alone and, with it, no HTTP. Each alias is the very same type,
// constant, error value or function as wire's.

import (
	"alishop/alipay/wire"
	"time"
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

func IsAgreementNotExist(err error) bool { return wire.IsAgreementNotExist(err) }

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

func ParseAmount(s string) (Amount, error) { return wire.ParseAmount(s) }

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

func SignContent(params map[string]string, rule Rule) []byte { return wire.SignContent(params, rule) }

func ParseForm(body string) (map[string]string, error) { return wire.ParseForm(body) }

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

func IsAuthTokenInvalid(err error) bool { return wire.IsAuthTokenInvalid(err) }

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

func IsUnknownOutcome(err error) bool { return wire.IsUnknownOutcome(err) }

func ResponseNode(method string) string { return wire.ResponseNode(method) }

func ExtractResponse(body []byte, method string) (*RawResponse, error) {
	return wire.ExtractResponse(body, method)
}

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

func IsSettleNotExist(err error) bool { return wire.IsSettleNotExist(err) }

// From wire/timefmt.go.

const (
	TimeLayout = wire.TimeLayout
)

var (
	Beijing = wire.Beijing
)

func FormatTime(t time.Time) string { return wire.FormatTime(t) }

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

func IsTradeNotExist(err error) bool { return wire.IsTradeNotExist(err) }

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
