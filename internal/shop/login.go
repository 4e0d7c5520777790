package shop

// 支付宝登录 for buyers: scope auth_base gives the buyer's Alipay user id,
// which then names their orders (those made while logged in, and those paid
// with that account) so 我的订单 follows the buyer to any device.

import (
	"context"
	"crypto/subtle"
	"errors"

	"alishop/alipay/wire"
)

// BuyerStore keeps the buyer user id of orders.
type BuyerStore interface {
	// ClaimOrder sets the order's buyer user id unless it has one.
	ClaimOrder(ctx context.Context, outTradeNo, userID string) error
	// BuyerOrderNumbers lists the numbers of the buyer's orders, newest
	// first, at most limit.
	BuyerOrderNumbers(ctx context.Context, userID string, limit int) ([]string, error)
}

// LoginGateway is what 支付宝登录 needs from Alipay; *alipay.Client
// implements it.
type LoginGateway interface {
	AuthorizeURL(p wire.AuthorizeRequest) (string, error)
	SystemOauthToken(ctx context.Context, p wire.SystemOauthTokenRequest) (*wire.SystemOauthTokenResult, error)
}

// Login is 支付宝登录's use cases.
type Login struct {
	gw       LoginGateway
	store    BuyerStore
	callback string
}

// NewLogin returns the login use cases; callback is the absolute URL of
// the shop's callback (registered with the Alipay app as 授权回调地址).
func NewLogin(gw LoginGateway, store BuyerStore, callback string) *Login {
	return &Login{gw: gw, store: store, callback: callback}
}

// MaxBuyerOrders bounds the orders 我的订单 lists for a logged-in buyer.
const MaxBuyerOrders = 50

// ValidUserID reports whether s is an Alipay user id: 2088 and 12 digits.
func ValidUserID(s string) bool {
	if len(s) != 16 || s[:4] != "2088" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// userIDOrNone is s when it is a user id, else "" (an open_id or garbage
// names no one here).
func userIDOrNone(s string) string {
	if ValidUserID(s) {
		return s
	}
	return ""
}

// MaskUserID shows a user id to its owner: 2088****6880.
func MaskUserID(id string) string { return wire.MaskUserID(id) }

// LoginStateOK reports whether the state the authorize redirect brought
// back is the one bound to the browser (a cookie): against login CSRF, a
// login another site started in this browser is refused.
func LoginStateOK(bound, returned string) bool {
	return len(bound) >= 16 && len(bound) <= wire.MaxStateLen && subtle.ConstantTimeCompare([]byte(bound), []byte(returned)) == 1
}

// Start returns the authorize URL for state (auth_base: the user id only).
func (l *Login) Start(state string) (string, error) {
	u, err := l.gw.AuthorizeURL(wire.AuthorizeRequest{Scopes: []wire.Scope{wire.ScopeAuthBase}, RedirectURI: l.callback, State: state})
	if err != nil {
		return "", Errorf(EINTERNAL, "无法发起支付宝登录")
	}
	return u, nil
}

// ErrLoginCode is a login whose auth_code Alipay refused (used, expired or
// forged): the buyer starts again.
var ErrLoginCode = &Error{Code: EINVALID, Message: "支付宝登录已失效，请重新登录"}

// Finish exchanges the redirect's auth_code for the buyer's user id.
func (l *Login) Finish(ctx context.Context, code string) (string, error) {
	if code == "" || len(code) > 128 {
		return "", ErrLoginCode
	}
	tok, err := l.gw.SystemOauthToken(ctx, wire.SystemOauthTokenRequest{Code: code})
	var ae *wire.Error
	switch {
	case err == nil:
	case wire.IsUnknownOutcome(err):
		return "", Errorf(EUNAVAILABLE, "暂时无法连接支付宝，请稍后重新登录")
	case errors.As(err, &ae):
		return "", ErrLoginCode
	default:
		return "", Errorf(EUNAVAILABLE, "暂时无法连接支付宝，请稍后重新登录")
	}
	if !ValidUserID(tok.UserID) {
		return "", Errorf(EUNAVAILABLE, "支付宝未返回用户标识，请稍后重新登录")
	}
	return tok.UserID, nil
}

// Claim records that the logged-in buyer userID made the order.
func (l *Login) Claim(ctx context.Context, outTradeNo, userID string) error {
	if !ValidUserID(userID) || !ValidOutTradeNo(outTradeNo) {
		return nil
	}
	return l.store.ClaimOrder(ctx, outTradeNo, userID)
}

// Orders lists the numbers of the buyer's orders, newest first.
func (l *Login) Orders(ctx context.Context, userID string) ([]string, error) {
	if !ValidUserID(userID) {
		return nil, nil
	}
	return l.store.BuyerOrderNumbers(ctx, userID, MaxBuyerOrders)
}
