package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"alishop/alipay"
)

// Fault kinds of the fault plan (docs/SANDBOX.md).
const (
	// Notification faults; scope: app_id, out_trade_no, trade_status (each optional).
	KindDrop             = "drop"              // the attempt is not sent (counts as failed: retried on schedule)
	KindDuplicate        = "duplicate"         // each attempt is sent `times` times (default 2)
	KindReorder          = "reorder"           // held until the trade's next notification has gone (or `delay`, default 1h)
	KindCorruptSignature = "corrupt_signature" // the sign is altered
	KindWrongAmount      = "wrong_amount"      // genuinely signed, total_amount = `amount` (default total + 0.01)
	// Gateway faults; scope: app_id, method (each optional).
	KindGatewayError = "gateway_error" // `error`: "20000", "ACQ.SYSTEM_ERROR" or "timeout", after the effect is committed
	KindLatency      = "latency"       // `delay` before the gateway handles the call
)

// Fault is one rule of the fault plan. Count is how many events it affects
// (0 = every matching event until the plan is cleared).
type Fault struct {
	ID          int      `json:"id"`
	Kind        string   `json:"kind"`
	AppID       string   `json:"app_id,omitempty"`
	OutTradeNo  string   `json:"out_trade_no,omitempty"`
	TradeStatus string   `json:"trade_status,omitempty"`
	Method      string   `json:"method,omitempty"`
	Count       int      `json:"count,omitempty"`
	Times       int      `json:"times,omitempty"`
	Amount      string   `json:"amount,omitempty"`
	Error       string   `json:"error,omitempty"`
	Effect      string   `json:"effect,omitempty"` // gateway_error: "committed" (default) or "none"
	Delay       Duration `json:"delay,omitempty"`
	Used        int      `json:"used"`
}

// Duration is a time.Duration written in JSON as a Go duration string ("200ms").
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`delay must be a duration string such as "200ms"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("delay %q: want a duration such as 200ms, 5s, 1h", s)
	}
	*d = Duration(v)
	return nil
}

func (f *Fault) check() error {
	switch f.Kind {
	case KindDrop, KindReorder, KindCorruptSignature:
	case KindDuplicate:
		if f.Times == 0 {
			f.Times = 2
		}
		if f.Times < 2 || f.Times > 100 {
			return errors.New("duplicate: times must be 2 to 100")
		}
	case KindWrongAmount:
		if f.Amount != "" {
			if a, err := alipay.ParseAmount(f.Amount); err != nil || !a.Valid() {
				return fmt.Errorf("wrong_amount: amount %q is not a valid yuan amount", f.Amount)
			}
		}
	case KindGatewayError:
		switch f.Error {
		case "20000", "ACQ.SYSTEM_ERROR", "timeout":
		default:
			return fmt.Errorf(`gateway_error: error %q: want "20000", "ACQ.SYSTEM_ERROR" or "timeout"`, f.Error)
		}
		switch f.Effect {
		case "":
			f.Effect = "committed"
		case "committed", "none":
		default:
			return fmt.Errorf(`gateway_error: effect %q: want "committed" or "none"`, f.Effect)
		}
		if f.Method != "" && (methodsByName[f.Method] == nil || isPageMethod(f.Method)) {
			return fmt.Errorf("gateway_error: method %q is not an API or app-pay method of the sandbox", f.Method)
		}
	case KindLatency:
		if f.Delay <= 0 || time.Duration(f.Delay) > 5*time.Minute {
			return errors.New("latency: delay must be between 0 and 5m")
		}
	default:
		return fmt.Errorf("unknown fault kind %q (want drop, duplicate, reorder, corrupt_signature, wrong_amount, gateway_error or latency)", f.Kind)
	}
	if f.Count < 0 {
		return errors.New("count must be 0 (all) or more")
	}
	return nil
}

func (f *Fault) available() bool { return f.Count == 0 || f.Used < f.Count }

func (f *Fault) matchNote(n *note) bool {
	return (f.AppID == "" || f.AppID == n.AppID) && (f.OutTradeNo == "" || f.OutTradeNo == n.OutTradeNo) &&
		(f.TradeStatus == "" || strings.EqualFold(f.TradeStatus, n.TradeStatus))
}

// takeNoteFault finds and uses the first available rule of kind matching n.
// Callers hold s.mu.
func (s *Sandbox) takeNoteFault(kind string, n *note) *Fault {
	for _, f := range s.faults {
		if f.Kind == kind && f.available() && f.matchNote(n) {
			f.Used++
			return f
		}
	}
	return nil
}

func (s *Sandbox) takeGatewayFault(appID, method string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Kind == KindGatewayError && f.available() && (f.AppID == "" || f.AppID == appID) && (f.Method == "" || f.Method == method) {
			f.Used++
			return f
		}
	}
	return nil
}

// applyLatency holds the call (real time) when a latency rule matches it.
// It returns false if the request's context ended first.
func (s *Sandbox) applyLatency(ctx context.Context, appID, method string) bool {
	var d time.Duration
	s.mu.Lock()
	for _, f := range s.faults {
		if f.Kind == KindLatency && f.available() && (f.AppID == "" || f.AppID == appID) && (f.Method == "" || f.Method == method) {
			f.Used++
			d = time.Duration(f.Delay)
			break
		}
	}
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// AddFaults adds rules to the fault plan and returns the whole plan.
func (s *Sandbox) AddFaults(fs []Fault) ([]Fault, error) {
	for i := range fs {
		if err := fs[i].check(); err != nil {
			return nil, fmt.Errorf("fault %d: %w", i+1, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range fs {
		f := fs[i]
		s.faultID++
		f.ID, f.Used = s.faultID, 0
		s.faults = append(s.faults, &f)
	}
	return s.faultPlan(), nil
}

// Faults returns the fault plan with each rule's use count.
func (s *Sandbox) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultPlan()
}

func (s *Sandbox) faultPlan() []Fault {
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}

// ClearFaults empties the fault plan.
func (s *Sandbox) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}
