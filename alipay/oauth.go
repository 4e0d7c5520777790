package alipay

// 支付宝登录 (user information authorisation): the buyer's browser is sent to
// Alipay's authorize page, comes back to redirect_uri with a one-time
// auth_code, which alipay.system.oauth.token exchanges for the user's id and
// an access token; alipay.user.info.share reads the profile with that token
// (scope auth_user). See docs/PROTOCOL.md, "支付宝登录".

import (
	"alishop/alipay/wire"
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
		err = wire.WithResponse(raw, fmt.Errorf("alipay: %s: %w: %w: no access_token or user id", r.method, ErrUnknownOutcome, ErrBadResponse))
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
		return nil, wire.WithResponse(raw, fmt.Errorf("alipay: alipay.user.info.share: %w: no user id", ErrBadResponse))
	}
	u.Raw = raw
	return &u, nil
}
