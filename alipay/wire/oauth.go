package wire

import (
	"strings"
	"time"
)

// Scope is what the buyer is asked to share.
type Scope string

// Scopes of publicAppAuthorize.htm.
const (
	// ScopeAuthBase gives the user id only, without a consent page in the
	// Alipay app (静默授权).
	ScopeAuthBase Scope = "auth_base"
	// ScopeAuthUser also gives the profile read by UserInfoShare (nick name,
	// avatar, …) and asks the buyer's consent.
	ScopeAuthUser Scope = "auth_user"
)

// AuthorizeRequest is the authorize page's query.
type AuthorizeRequest struct {
	// Scopes asked for (default ScopeAuthBase).
	Scopes []Scope
	// RedirectURI is where Alipay sends the buyer back, with auth_code,
	// app_id, scope and state; it must be registered with the app
	// (授权回调地址). Required: an absolute http(s) URL.
	RedirectURI string
	// State is returned unchanged on the redirect: bind it to the buyer's
	// browser (a cookie) and compare it there, against login CSRF. Up to
	// 100 characters.
	State string
}

// MaxStateLen bounds AuthorizeRequest.State, as Alipay does.
const MaxStateLen = 100

// GrantType is how SystemOauthToken gets its token.
type GrantType string

// Grant types of alipay.system.oauth.token.
const (
	GrantAuthorizationCode GrantType = "authorization_code" // exchange an auth_code
	GrantRefreshToken      GrantType = "refresh_token"      // renew with a refresh token
)

// SystemOauthTokenRequest is a call of alipay.system.oauth.token: Code with
// GrantAuthorizationCode, or RefreshToken with GrantRefreshToken. GrantType
// may be left empty: it follows from which of the two is set.
type SystemOauthTokenRequest struct {
	GrantType    GrantType
	Code         string
	RefreshToken string
}

// SystemOauthTokenResult is the answer of alipay.system.oauth.token.
type SystemOauthTokenResult struct {
	// UserID is the buyer's Alipay user id (2088 and 12 more digits), the
	// buyer_id of their payments' notifications. OpenID replaces it for
	// apps created after Alipay's open_id switch.
	UserID      string `json:"user_id"`
	OpenID      string `json:"open_id"`
	AccessToken string `json:"access_token"`
	// ExpiresIn is how long AccessToken is valid, ReExpiresIn how long
	// RefreshToken is, from AuthStart (or from the answer, if absent).
	ExpiresIn    time.Duration `json:"-"`
	RefreshToken string        `json:"refresh_token"`
	ReExpiresIn  time.Duration `json:"-"`
	AuthStart    time.Time     `json:"-"`
	Raw          *Response     `json:"-"`
}

// Sub codes of the 支付宝登录 calls.
const (
	// SubCodeCodeInvalid: the auth_code is unknown, used, expired or was
	// issued to another app. Send the buyer to the authorize page again.
	SubCodeCodeInvalid SubCode = "isv.code-invalid"
	// SubCodeRefreshTokenInvalid and SubCodeRefreshTokenTimeOut: the
	// refresh token is unknown (or was used) or has expired.
	SubCodeRefreshTokenInvalid SubCode = "isv.refresh-token-invalid"
	SubCodeRefreshTokenTimeOut SubCode = "isv.refresh-token-time-out"
	// SubCodeInvalidAuthToken and SubCodeAuthTokenTimeOut (code 20001; over
	// v3 HTTP 401 with the code without its "aop." prefix): the access
	// token is unknown, or has expired.
	SubCodeInvalidAuthToken SubCode = "aop.invalid-auth-token"
	SubCodeAuthTokenTimeOut SubCode = "aop.auth-token-time-out"
)

// IsAuthTokenInvalid reports whether err says the access token given to
// UserInfoShare is unknown or expired (v2 or v3 spelling): refresh it, or
// send the buyer to the authorize page again.
func IsAuthTokenInvalid(err error) bool {
	for _, c := range []SubCode{SubCodeInvalidAuthToken, SubCodeAuthTokenTimeOut, "invalid-auth-token", "auth-token-time-out"} {
		if HasSubCode(err, c) {
			return true
		}
	}
	return false
}

// UserInfo is the answer of alipay.user.info.share: what the buyer agreed
// to share (scope auth_user). Fields the app may not read are empty.
type UserInfo struct {
	UserID   string `json:"user_id"`
	OpenID   string `json:"open_id"`
	NickName string `json:"nick_name"`
	Avatar   string `json:"avatar"` // an https URL of the picture
	Gender   string `json:"gender"` // F or M
	Province string `json:"province"`
	City     string `json:"city"`
	// IsCertified is "T" when the account's real name is verified.
	IsCertified string    `json:"is_certified"`
	UserType    string    `json:"user_type"` // 1 company, 2 person
	UserStatus  string    `json:"user_status"`
	Raw         *Response `json:"-"`
}

// MaskUserID masks an Alipay user id for showing it (2088****1234): the
// first and last four digits stay.
func MaskUserID(id string) string {
	if len(id) <= 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + "****" + id[len(id)-4:]
}
