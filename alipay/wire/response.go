package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Code is the top-level code of a gateway answer.
type Code string

// Top-level codes: 10000 is success, 20000 leaves the outcome unknown,
// 40004 is a business failure named by the SubCode; 40001 (missing
// parameter), 40002 (invalid parameter, app id or signature), 40006 (no
// permission) and 20001 (bad authorisation token) are gateway errors.
// 10003 is answered by alipay.trade.pay only: the trade waits for its buyer.
const (
	CodeSuccess        Code = "10000"
	CodeUserPaying     Code = "10003"
	CodeUnavailable    Code = "20000"
	CodeBusinessFailed Code = "40004"
)

// SubCode is the detailed code of a failed call: a gateway sub_code
// (isv.invalid-signature, …) or a business one (ACQ.TRADE_NOT_EXIST, …).
type SubCode string

// Sub codes that callers act on.
const (
	SubCodeTradeNotExist    SubCode = "ACQ.TRADE_NOT_EXIST"    // no such trade (yet)
	SubCodeTradeStatusError SubCode = "ACQ.TRADE_STATUS_ERROR" // e.g. closing a paid trade
	SubCodeSystemError      SubCode = "ACQ.SYSTEM_ERROR"       // the outcome is unknown
	SubCodeBillNotExist     SubCode = "isp.bill_not_exist"
)

// Error is a failure reported by Alipay: a gateway error (code 40001, 40002,
// …) or a business error (code 40004 with an ACQ.* sub_code).
type Error struct {
	Method  string  `json:"-"`
	Code    Code    `json:"code"`
	Msg     string  `json:"msg"`
	SubCode SubCode `json:"sub_code,omitempty"`
	SubMsg  string  `json:"sub_msg,omitempty"`
	// Unverified is true when the response carried no signature (Alipay does
	// not sign some gateway errors, e.g. isv.invalid-app-id). Its content
	// could have been written by anyone on the path.
	Unverified bool `json:"-"`
	// HTTPStatus and TraceID are set for an OpenAPI v3 error answer, whose
	// code and message are in SubCode and SubMsg (Code is empty).
	HTTPStatus int    `json:"-"`
	TraceID    string `json:"-"`
	// Raw is the answer as received.
	Raw *Response `json:"-"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("alipay: ")
	if e.Method != "" {
		b.WriteString(e.Method + ": ")
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
	} else {
		b.WriteString(string(e.Code) + " " + e.Msg)
	}
	if e.SubCode != "" {
		b.WriteString(" (" + string(e.SubCode))
		if e.SubMsg != "" {
			b.WriteString(": " + e.SubMsg)
		}
		b.WriteString(")")
	}
	if e.TraceID != "" {
		b.WriteString(" trace " + e.TraceID)
	}
	if e.Unverified {
		b.WriteString(" [unsigned response]")
	}
	return b.String()
}

// Unwrap lets errors.Is(err, ErrUnsigned) and errors.Is(err, ErrUnknownOutcome) work.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Unverified {
		errs = append(errs, ErrUnsigned)
	}
	if e.unknownOutcome() {
		errs = append(errs, ErrUnknownOutcome)
	}
	return errs
}

func (e *Error) response() *Response { return e.Raw }

func (e *Error) unknownOutcome() bool {
	switch {
	case e.Code == CodeUnavailable, e.HTTPStatus >= 500, e.SubCode == SubCodeSystemError, e.SubCode == "SYSTEM_ERROR",
		e.SubCode == "isp.unknow-error", e.SubCode == "aop.unknow-error":
		return true
	}
	return false
}

var (
	// ErrUnknownOutcome marks a call whose effect at Alipay is unknown: a
	// network error or timeout after the request was sent, a non-200 HTTP
	// status, code 20000 or ACQ.SYSTEM_ERROR, or an unreadable response.
	// Repeat the call with the same parameters, or query, to learn the outcome.
	ErrUnknownOutcome = errors.New("alipay: outcome unknown")
	// ErrUnsigned marks an answer, notification or return that carried no
	// signature.
	ErrUnsigned = errors.New("alipay: not signed")
	// ErrBadResponse marks a response that is not the expected JSON shape.
	ErrBadResponse = errors.New("alipay: malformed response")
	// ErrDuplicateNode marks a response with the same top-level key twice, a
	// sign of an injection attempt.
	ErrDuplicateNode = errors.New("alipay: response has a duplicate node")
	// ErrSignature marks a signature that does not verify.
	ErrSignature = errors.New("alipay: signature mismatch")
)

// IsUnknownOutcome reports whether err leaves the call's effect unknown, so
// the caller must retry with the same parameters or query before deciding.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// RawResponse is the signed part of a synchronous response, located in the
// exact bytes received.
type RawResponse struct {
	Node    string // the key used: "<method>_response" or "error_response"
	Content []byte // the exact bytes of the node's value, as signed
	Sign    string // the top-level "sign", "" if absent
	CertSN  string // the top-level "alipay_cert_sn", "" if absent
}

// ResponseNode returns the response key of a method: "alipay.trade.query" →
// "alipay_trade_query_response".
func ResponseNode(method string) string {
	return strings.ReplaceAll(method, ".", "_") + "_response"
}

// ExtractResponse locates the response node of method in body without
// re-serialising anything. It falls back to "error_response" when the method
// node is absent, and rejects a body in which any top-level key repeats.
func ExtractResponse(body []byte, method string) (*RawResponse, error) {
	node := ResponseNode(method)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrBadResponse)
	}
	seen := map[string]bool{}
	var r RawResponse
	var errNode []byte
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: bad key", ErrBadResponse)
		}
		if seen[key] {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateNode, key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
		}
		switch key {
		case node:
			r.Content = raw
		case "error_response":
			errNode = raw
		case "sign", "alipay_cert_sn":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("%w: %s is not a string", ErrBadResponse, key)
			}
			if key == "sign" {
				r.Sign = s
			} else {
				r.CertSN = s
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the object", ErrBadResponse)
	}
	switch {
	case r.Content != nil:
		r.Node = node
	case errNode != nil:
		r.Node, r.Content = "error_response", errNode
	default:
		return nil, fmt.Errorf("%w: no %s or error_response", ErrBadResponse, node)
	}
	return &r, nil
}

// Response is an answer of the gateway as received: the method called, the
// HTTP status and headers, and the exact bytes of the body. Every typed
// result carries it (Raw), and so does every error that follows an answer
// (see ResponseOf), so the caller can store what Alipay sent and verify it
// again later with Client.DecodeResponse.
type Response struct {
	Method     string // the API method, e.g. alipay.trade.query
	API        API    // the protocol of the call
	StatusCode int
	Header     Header
	Body       []byte
}

// responseError is a failure that follows an answer; it keeps the answer.
type responseError struct {
	raw *Response
	err error
}

func (e *responseError) Error() string       { return e.err.Error() }
func (e *responseError) Unwrap() error       { return e.err }
func (e *responseError) response() *Response { return e.raw }

// ResponseOf returns the answer an error of a call followed, or nil when the
// call failed before one was received (a bad parameter, a network error).
func ResponseOf(err error) *Response {
	var r interface{ response() *Response }
	if errors.As(err, &r) {
		return r.response()
	}
	return nil
}

// WithResponse attaches raw, the answer a call's failure err followed, to
// err, so that ResponseOf finds it: an *Error keeps it in Raw (if unset),
// any other error is wrapped.
func WithResponse(raw *Response, err error) error {
	var e *Error
	if errors.As(err, &e) {
		if e.Raw == nil {
			e.Raw = raw
		}
		return err
	}
	return &responseError{raw, err}
}
