package metrics

import "alishop/alipay"

// AlipayCall records one call of the Alipay client; it is the client's
// alipay.Config.OnCall. The client classifies the outcome; this only maps it
// to the metric's result label and bounds the method label.
func (m *Metrics) AlipayCall(r alipay.CallReport) {
	method, result := methodLabel(r.Method), resultLabel(r.Outcome)
	m.alipayCalls.WithLabelValues(method, result).Inc()
	m.alipayLatency.WithLabelValues(method).Observe(r.Duration.Seconds())
	if result == resultUnknown {
		m.unknown.WithLabelValues(method).Inc()
	}
}

// Results of an Alipay call, as labelled.
const (
	resultSuccess  = "success"        // a verified success
	resultBusiness = "business_error" // Alipay refused the call (trade state, amount, …)
	resultError    = "error"          // the gateway refused the request (signature, parameters, permission)
	resultUnknown  = "unknown"        // no usable answer: the outcome is not known
)

func resultLabel(o alipay.Outcome) string {
	switch o {
	case alipay.OutcomeOK:
		return resultSuccess
	case alipay.OutcomeBusinessError:
		return resultBusiness
	case alipay.OutcomeGatewayError:
		return resultError
	}
	return resultUnknown // alipay.OutcomeUnknown, alipay.OutcomeTransportError
}

// methodLabel keeps the method label bounded: an Alipay method name, or
// "other" for anything else a generic call may have named.
func methodLabel(m string) string {
	if m == "" || len(m) > 64 {
		return "other"
	}
	for _, c := range m {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_') {
			return "other"
		}
	}
	return m
}
