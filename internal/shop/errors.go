package shop

import (
	"errors"
	"fmt"
)

// Error codes. The web layer maps each to one HTTP status in one place.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EUNAVAILABLE  = "unavailable" // a dependency (Alipay, the database) did not answer
)

// Error is an error the shop reports to its users: a code and a message
// safe to show. Anything else is internal and is shown as a generic message.
type Error struct {
	Code    string
	Message string
	// Fields, for an error about a form, holds a message per invalid
	// field (by the field's form name), to show next to it.
	Fields map[string]string
}

func (e *Error) Error() string { return fmt.Sprintf("shop: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for errors that are not *Error
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err that is safe to show.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "服务器内部错误"
}

// Common errors.
var (
	ErrGoodsNotFound = &Error{Code: ENOTFOUND, Message: "商品不存在"}
	ErrGoodsHidden   = &Error{Code: ENOTFOUND, Message: "商品已下架"}
	ErrOrderNotFound = &Error{Code: ENOTFOUND, Message: "订单不存在"}
	// ErrOutOfStock: fewer of the goods are left than the checkout asks
	// for; nothing was stored.
	ErrOutOfStock = &Error{Code: ECONFLICT, Message: "库存不足，这件商品剩余的数量不够本次购买，没有创建订单。"}
	// ErrGoodsChanged: the goods changed (stock counted or not, price)
	// between the checkout's read and its insert.
	ErrGoodsChanged = &Error{Code: ECONFLICT, Message: "商品信息刚刚有变化，没有创建订单，请返回商品页重新下单。"}
	ErrOrderExists  = &Error{Code: ECONFLICT, Message: "订单号重复"}
	ErrBadLogin     = &Error{Code: EUNAUTHORIZED, Message: "用户名或密码错误"}
	// ErrAmountMismatch: Alipay's trade is for another amount than the
	// order; the order is flagged for review and only a person can settle it.
	ErrAmountMismatch = &Error{Code: ECONFLICT, Message: "支付宝交易金额与订单不符，订单已标记待核查"}
)

// ErrNoSetting is what storage returns for a setting that was never stored.
var ErrNoSetting = errors.New("store: no such setting")
