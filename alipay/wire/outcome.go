package wire

import (
	"errors"
	"strconv"
	"strings"
)

// Outcome classifies how a call ended: what a caller (or a metric) needs to
// know to decide what to do next.
type Outcome uint8

// Outcomes of a call.
const (
	// OutcomeOK is a verified success (code 10000; a v3 2xx).
	OutcomeOK Outcome = iota
	// OutcomeBusinessError is Alipay refusing the call on its merits
	// (code 40004 with an ACQ.* sub_code; a v3 business code): nothing
	// changed at Alipay.
	OutcomeBusinessError
	// OutcomeGatewayError is the gateway refusing the request itself
	// (40001, 40002, 40006, 20001; a v3 isv.* code or a 401, 403, 404, …):
	// nothing changed; the request or the configuration is wrong.
	OutcomeGatewayError
	// OutcomeUnknown is an answer that does not say what happened: code
	// 20000, ACQ.SYSTEM_ERROR, a 5xx or other unexpected status, an answer
	// that does not verify or cannot be read.
	OutcomeUnknown
	// OutcomeTransportError is no (complete) answer at all: a network
	// error, a timeout, a cancelled context. The effect is unknown too.
	OutcomeTransportError
)

var outcomeNames = [...]string{"ok", "business_error", "gateway_error", "unknown", "transport_error"}

// String returns the outcome's name: ok, business_error, gateway_error,
// unknown or transport_error.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// OutcomeOf classifies the error a call returned; nil is OutcomeOK. An
// error that is not from a call (a parameter the client refused) is
// OutcomeGatewayError: nothing was changed. Both OutcomeUnknown and
// OutcomeTransportError leave the effect unknown (IsUnknownOutcome).
func OutcomeOf(err error) Outcome {
	if err == nil {
		return OutcomeOK
	}
	var te *TransportError
	if errors.As(err, &te) {
		return OutcomeTransportError
	}
	var e *Error
	if errors.As(err, &e) {
		switch {
		case e.unknownOutcome():
			return OutcomeUnknown
		case e.businessError():
			if e.Unverified {
				// Alipay signs every business answer: an unsigned one
				// says nothing trustworthy about the trade.
				return OutcomeUnknown
			}
			return OutcomeBusinessError
		}
		return OutcomeGatewayError
	}
	if IsUnknownOutcome(err) || errors.Is(err, ErrBadResponse) {
		return OutcomeUnknown
	}
	return OutcomeGatewayError
}

// businessError reports whether e is a refusal on the call's merits rather
// than of the request itself.
func (e *Error) businessError() bool {
	if e.HTTPStatus == 0 {
		return e.Code == CodeBusinessFailed
	}
	switch e.HTTPStatus {
	case 401, 403, 404, 405, 413, 415, 429:
		return false
	}
	code := string(e.SubCode)
	return !strings.HasPrefix(code, "isv.") && !strings.HasPrefix(code, "isp.") && !strings.HasPrefix(code, "aop.")
}

// TransportError marks a call that got no complete answer: Err is the
// network error, the timeout or the cancelled context.
type TransportError struct{ Err error }

func (e *TransportError) Error() string { return e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }
