package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// Transport returns an http.RoundTripper for the Alipay client that counts
// each gateway call by method and result and times it until its answer is
// read. It reads the answer to classify it and hands the same bytes on, so
// the client sees exactly what the gateway sent. base nil means
// http.DefaultTransport.
func (m *Metrics) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{m: m, base: base}
}

type transport struct {
	m    *Metrics
	base http.RoundTripper
}

// maxClassify bounds what is read of an answer to classify it; the Alipay
// client reads at most 8 MiB of an answer.
const maxClassify = 8<<20 + 1

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	method := callMethod(req)
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.record(method, resultUnknown, start)
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxClassify))
	result := classify(resp.StatusCode, body)
	if rerr != nil {
		result = resultUnknown
	}
	t.record(method, result, start)
	resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(body), errReader{rerr}, resp.Body), c: resp.Body}
	return resp, nil
}

func (t *transport) record(method, result string, start time.Time) {
	t.m.alipayCalls.WithLabelValues(method, result).Inc()
	t.m.alipayLatency.WithLabelValues(method).Observe(time.Since(start).Seconds())
	if result == resultUnknown {
		t.m.unknown.WithLabelValues(method).Inc()
	}
}

// Results of an Alipay call.
const (
	resultSuccess  = "success"        // code 10000 (v2), a 2xx (v3)
	resultBusiness = "business_error" // 40004: Alipay refused (trade state, amount, …)
	resultError    = "error"          // another definite error (40001, 40002, 40006, a 4xx)
	resultUnknown  = "unknown"        // no usable answer: the outcome is not known
)

// classify reads an answer's code without checking its signature (the
// client does that); it only labels the call.
func classify(status int, body []byte) string {
	if status >= 500 {
		return resultUnknown
	}
	if status != http.StatusOK {
		// OpenAPI v3 answers errors with a 4xx and {"code": …}.
		var e struct {
			Code string `json:"code"`
		}
		if status >= 400 && json.Unmarshal(body, &e) == nil && e.Code != "" {
			if strings.Contains(e.Code, "SYSTEM_ERROR") || strings.Contains(strings.ToLower(e.Code), "unknow") {
				return resultUnknown
			}
			return resultBusiness
		}
		if status/100 == 2 {
			return resultSuccess
		}
		return resultUnknown
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return resultUnknown
	}
	for k, v := range top {
		if !strings.HasSuffix(k, "_response") {
			continue
		}
		var n struct {
			Code    string `json:"code"`
			SubCode string `json:"sub_code"`
		}
		if json.Unmarshal(v, &n) != nil {
			continue // an encrypted node is a JSON string: see below
		}
		switch {
		case n.Code == "10000":
			return resultSuccess
		case n.Code == "20000", n.SubCode == "ACQ.SYSTEM_ERROR", strings.HasSuffix(n.SubCode, ".unknow-error"):
			return resultUnknown
		case n.Code == "40004":
			return resultBusiness
		case n.Code != "":
			return resultError
		}
		return resultUnknown
	}
	if len(top) > 0 && !bytes.Contains(body, []byte("_response")) {
		// A 200 without a response node: OpenAPI v3 success bodies.
		return resultSuccess
	}
	// An AES-encrypted node cannot be read here; a successful decrypt is
	// the client's business.
	return resultSuccess
}

// callMethod names the Alipay method of a request: the method parameter of
// a v2 gateway call, or the path of a v3 call (/v3/alipay/trade/query →
// alipay.trade.query). Anything else is "other", so labels stay bounded to
// the methods the shop's own code calls.
func callMethod(req *http.Request) string {
	m := req.URL.Query().Get("method")
	if m == "" {
		if p, ok := strings.CutPrefix(req.URL.Path, "/v3/"); ok {
			m = strings.ReplaceAll(strings.Trim(p, "/"), "/", ".")
		} else if i := strings.Index(req.URL.Path, "/v3/"); i >= 0 {
			m = strings.ReplaceAll(strings.Trim(req.URL.Path[i+4:], "/"), "/", ".")
		}
	}
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

type replayBody struct {
	io.Reader
	c io.Closer
}

func (b *replayBody) Close() error { return b.c.Close() }

// errReader returns err once it is reached (nil: nothing).
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
