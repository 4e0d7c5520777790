package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Amount is an amount of money in fen (1 yuan = 100 fen).
//
// On the wire Alipay writes amounts as yuan strings with up to two decimals.
// Amount marshals to JSON as such a string and unmarshals from a string or a
// JSON number, exactly, without floating point.
type Amount int64

// MaxAmount is the largest amount Alipay accepts in a trade: 100,000,000 yuan.
const MaxAmount Amount = 100_000_000_00

// ErrAmount reports an amount that is not a valid yuan value.
var ErrAmount = errors.New("alipay: invalid amount")

// ParseAmount parses a yuan string such as "88.88", "13.5" or "100" into fen.
// It rejects signs, exponents, more than two decimals and empty input.
// Zero is accepted here; use [Amount.Valid] for a trade amount.
func ParseAmount(s string) (Amount, error) {
	if s == "" || len(s) > 20 {
		return 0, fmt.Errorf("%w: %q", ErrAmount, s)
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && (frac == "" || len(frac) > 2)) {
		return 0, fmt.Errorf("%w: %q", ErrAmount, s)
	}
	for _, c := range intPart + frac {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q", ErrAmount, s)
		}
	}
	if len(intPart) > 12 {
		return 0, fmt.Errorf("%w: %q is too large", ErrAmount, s)
	}
	yuan, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrAmount, s)
	}
	var fen int64
	switch len(frac) {
	case 1:
		fen = int64(frac[0]-'0') * 10
	case 2:
		fen = int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	return Amount(yuan*100 + fen), nil
}

// MustAmount is like ParseAmount but panics on a bad literal; for constants in tests and examples.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// String formats the amount as yuan with exactly two decimals ("88.00").
func (a Amount) String() string {
	neg := ""
	v := int64(a)
	if v < 0 {
		neg = "-"
		v = -v
	}
	return fmt.Sprintf("%s%d.%02d", neg, v/100, v%100)
}

// Valid reports whether a is a valid trade amount: 0.01 to 100,000,000.00 yuan.
func (a Amount) Valid() bool { return a >= 1 && a <= MaxAmount }

// MarshalJSON writes the amount as a yuan string.
func (a Amount) MarshalJSON() ([]byte, error) {
	return []byte(`"` + a.String() + `"`), nil
}

// UnmarshalJSON reads a yuan string ("20.00") or a JSON number (20, 13.5).
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = str
	}
	if s == "" {
		*a = 0
		return nil
	}
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}
