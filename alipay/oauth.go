package alipay

// 支付宝登录 (user information authorisation): the buyer's browser is sent to
// Alipay's authorize page, comes back to redirect_uri with a one-time
// auth_code, which alipay.system.oauth.token exchanges for the user's id and
// an access token; alipay.user.info.share reads the profile with that token
// (scope auth_user). See docs/PROTOCOL.md, "支付宝登录".

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Authorize pages of Alipay's user information authorisation.
const (
	ProductionAuthorizeURL = "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm"
	// SandboxAuthorizeURL is the authorize page of Alipay's online sandbox
	// (the one of SandboxGateway).
	SandboxAuthorizeURL = "https://openauth-sandbox.dl.alipaydev.com/oauth2/publicAppAuthorize.htm"
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

// AuthorizeURL returns the URL of the authorize page to send the buyer's
// browser to: ProductionAuthorizeURL for the production gateway,
// SandboxAuthorizeURL for the sandbox one, and for any other gateway (an
// offline simulator) oauth2/publicAppAuthorize.htm next to its gateway.do.
// No call is made.
func (c *Client) AuthorizeURL(p AuthorizeRequest) (string, error) {
	u, err := url.Parse(p.RedirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: redirect_uri must be an absolute http(s) URL", ErrInvalidParam)
	}
	if len(p.State) > MaxStateLen {
		return "", fmt.Errorf("%w: state is longer than %d characters", ErrInvalidParam, MaxStateLen)
	}
	scopes := make([]string, 0, len(p.Scopes))
	for _, s := range p.Scopes {
		if s == "" || strings.ContainsAny(string(s), ", &=") {
			return "", fmt.Errorf("%w: bad scope %q", ErrInvalidParam, s)
		}
		scopes = append(scopes, string(s))
	}
	if len(scopes) == 0 {
		scopes = []string{string(ScopeAuthBase)}
	}
	q := map[string]string{"app_id": c.cfg.AppID, "scope": strings.Join(scopes, ","), "redirect_uri": p.RedirectURI, "state": p.State}
	base := c.authorizeBase()
	return base + querySep(base) + EncodeForm(q), nil
}

// authorizeBase is the authorize page of the client's gateway.
func (c *Client) authorizeBase() string {
	switch c.cfg.Gateway {
	case ProductionGateway:
		return ProductionAuthorizeURL
	case SandboxGateway:
		return SandboxAuthorizeURL
	}
	return c.v3Origin + c.v3Prefix + "oauth2/publicAppAuthorize.htm"
}

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

// seconds reads a duration in seconds that Alipay writes as a number or as
// a string.
type seconds time.Duration

func (s *seconds) UnmarshalJSON(b []byte) error {
	t := strings.Trim(string(b), `"`)
	if t == "" || t == "null" {
		*s = 0
		return nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("alipay: bad number of seconds %s", b)
	}
	*s = seconds(time.Duration(n) * time.Second)
	return nil
}

// SystemOauthToken calls alipay.system.oauth.token: it exchanges the
// auth_code of the redirect (once: a code works one time and expires within
// minutes), or renews a token with its refresh token (each refresh token
// works once; keep the new one). Over v2 the parameters are protocol
// parameters, not biz_content, as Alipay defines them; over v3 they are the
// JSON body.
func (c *Client) SystemOauthToken(ctx context.Context, p SystemOauthTokenRequest) (*SystemOauthTokenResult, error) {
	if p.GrantType == "" {
		p.GrantType = GrantAuthorizationCode
		if p.Code == "" && p.RefreshToken != "" {
			p.GrantType = GrantRefreshToken
		}
	}
	params := map[string]string{"grant_type": string(p.GrantType)}
	switch p.GrantType {
	case GrantAuthorizationCode:
		if p.Code == "" || p.RefreshToken != "" {
			return nil, fmt.Errorf("%w: grant_type authorization_code takes code only", ErrInvalidParam)
		}
		params["code"] = p.Code
	case GrantRefreshToken:
		if p.RefreshToken == "" || p.Code != "" {
			return nil, fmt.Errorf("%w: grant_type refresh_token takes refresh_token only", ErrInvalidParam)
		}
		params["refresh_token"] = p.RefreshToken
	default:
		return nil, fmt.Errorf("%w: grant_type %q: want authorization_code or refresh_token", ErrInvalidParam, p.GrantType)
	}
	r := request{method: "alipay.system.oauth.token", extra: params}
	if c.overV3(r.method) {
		r = request{method: r.method, biz: params}
	}
	var res SystemOauthTokenResult
	w := struct {
		*SystemOauthTokenResult
		ExpiresIn   seconds `json:"expires_in"`
		ReExpiresIn seconds `json:"re_expires_in"`
		AuthStart   string  `json:"auth_start"`
	}{SystemOauthTokenResult: &res}
	raw, err := c.do(ctx, r, &w)
	if err == nil && w.AuthStart != "" {
		res.AuthStart, err = responseTime(raw, "auth_start", w.AuthStart)
	}
	if err == nil && (res.AccessToken == "" || (res.UserID == "" && res.OpenID == "")) {
		err = withResponse(raw, fmt.Errorf("alipay: %s: %w: %w: no access_token or user id", r.method, ErrUnknownOutcome, ErrBadResponse))
	}
	if err != nil {
		return nil, err
	}
	res.ExpiresIn, res.ReExpiresIn, res.Raw = time.Duration(w.ExpiresIn), time.Duration(w.ReExpiresIn), raw
	return &res, nil
}

// overV3 reports whether method goes over OpenAPI v3 with this client.
func (c *Client) overV3(method string) bool {
	_, ok := v3Routes[method]
	return ok && c.cfg.API == APIv3
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

// UserInfoShare calls alipay.user.info.share with the buyer's access token
// (SystemOauthTokenResult.AccessToken; auth_token, a protocol parameter
// over v2 and a query parameter over v3). An unknown or expired token is an
// *Error for which IsAuthTokenInvalid is true.
func (c *Client) UserInfoShare(ctx context.Context, authToken string) (*UserInfo, error) {
	if authToken == "" {
		return nil, fmt.Errorf("%w: auth_token is empty", ErrInvalidParam)
	}
	var u UserInfo
	raw, err := c.do(ctx, request{method: "alipay.user.info.share", extra: map[string]string{"auth_token": authToken}}, &u)
	if err != nil {
		return nil, err
	}
	if u.UserID == "" && u.OpenID == "" {
		return nil, withResponse(raw, fmt.Errorf("alipay: alipay.user.info.share: %w: no user id", ErrBadResponse))
	}
	u.Raw = raw
	return &u, nil
}

// MaskUserID masks an Alipay user id for showing it (2088****1234): the
// first and last four digits stay.
func MaskUserID(id string) string {
	if len(id) <= 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + "****" + id[len(id)-4:]
}
