package sandbox

// Buyers' payment codes (付款码): what the wallet shows and a cashier scans
// for alipay.trade.pay. A code names its buyer, is used once and expires.

import (
	"errors"
	"strconv"
	"time"

	"alishop/alipay"
)

// PayCodeTTL is how long a payment code can be scanned. The wallet page
// shows a new one every minute; an older one stays valid until it expires.
const PayCodeTTL = 2 * time.Minute

// maxCodesPerBuyer bounds the live codes of one buyer: issuing more drops
// the oldest.
const maxCodesPerBuyer = 10

// payCode is a live payment code.
type payCode struct {
	code   string
	login  string
	issued time.Time
	expire time.Time
}

// PayCode is an issued payment code, as api/paycodes answers it.
type PayCode struct {
	AuthCode   string    `json:"auth_code"`
	Buyer      string    `json:"buyer"`
	ExpiresAt  time.Time `json:"expires_at"`  // sandbox clock
	ExpireTime string    `json:"expire_time"` // the same, yyyy-MM-dd HH:mm:ss Beijing time
}

// ErrUnknownBuyer is IssuePayCode's error for a login the sandbox does not have.
var ErrUnknownBuyer = errors.New("sandbox: unknown buyer")

// IssuePayCode issues a payment code of buyer ("" = DefaultBuyer), as the
// buyer's wallet shows one.
func (s *Sandbox) IssuePayCode(buyer string) (PayCode, error) {
	if buyer == "" {
		buyer = DefaultBuyer
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[buyer] == nil {
		return PayCode{}, ErrUnknownBuyer
	}
	pc := s.issuePayCode(buyer, s.now())
	return PayCode{AuthCode: pc.code, Buyer: buyer, ExpiresAt: pc.expire, ExpireTime: alipay.FormatTime(pc.expire)}, nil
}

// issuePayCode makes a new code for login. Callers hold s.mu.
func (s *Sandbox) issuePayCode(login string, now time.Time) *payCode {
	var oldest *payCode
	live := 0
	for c, pc := range s.codes {
		if !now.Before(pc.expire) {
			delete(s.codes, c)
			continue
		}
		if pc.login == login {
			live++
			if oldest == nil || pc.issued.Before(oldest.issued) {
				oldest = pc
			}
		}
	}
	if live >= maxCodesPerBuyer {
		delete(s.codes, oldest.code)
	}
	pc := &payCode{login: login, issued: now, expire: now.Add(PayCodeTTL)}
	for {
		pc.code = newAuthCode()
		if s.codes[pc.code] == nil {
			break
		}
	}
	s.codes[pc.code] = pc
	return pc
}

// newAuthCode returns a code in Alipay's format: 18 digits starting with 25
// to 30.
func newAuthCode() string {
	return strconv.Itoa(25+randIntn(6)) + randDigits(16)
}

// takePayCode uses a code: it answers its buyer, or nil when the code is
// unknown, already used or expired. Callers hold s.mu.
func (s *Sandbox) takePayCode(code string, now time.Time) *account {
	pc := s.codes[code]
	if pc == nil {
		return nil
	}
	delete(s.codes, code)
	if !now.Before(pc.expire) {
		return nil
	}
	return s.accounts[pc.login]
}
