package wire

// CallRequest is a call of any gateway method, for Client.Call.
type CallRequest struct {
	Method string            // e.g. alipay.user.info.share
	Params map[string]string // extra protocol parameters (notify_url, auth_token, …); may be nil
	Biz    any               // marshalled to biz_content; nil for none
}

// API selects the protocol of a client's server-side calls.
type API string

// The protocols. Page and wap pay are v2 page requests under either.
const (
	APIv2 API = "v2" // gateway.do with signed form parameters: the default
	APIv3 API = "v3" // OpenAPI v3: a REST path per method, JSON, signatures in headers
)
