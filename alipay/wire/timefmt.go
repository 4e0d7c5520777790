package wire

import (
	"fmt"
	"strings"
	"time"
)

// Beijing is the fixed UTC+08:00 zone in which Alipay writes every time stamp.
// It needs no tzdata, so it works in minimal containers.
var Beijing = time.FixedZone("CST", 8*60*60)

// TimeLayout is Alipay's time stamp layout, in Beijing time.
const TimeLayout = "2006-01-02 15:04:05"

// FormatTime formats t as Alipay expects: "2006-01-02 15:04:05" in Beijing time.
func FormatTime(t time.Time) string { return t.In(Beijing).Format(TimeLayout) }

// ParseTime parses an Alipay time stamp in Beijing time. It accepts the
// millisecond form used by gmt_refund ("2021-07-14 09:51:36.631").
func ParseTime(s string) (time.Time, error) {
	if t, ok := parseTimeFast(s); ok {
		return t, nil
	}
	layout := TimeLayout
	if i := strings.IndexByte(s, '.'); i >= 0 {
		layout += "." + strings.Repeat("0", len(s)-i-1)
	}
	t, err := time.ParseInLocation(layout, s, Beijing)
	if err != nil {
		return time.Time{}, fmt.Errorf("alipay: bad time %q: want yyyy-MM-dd HH:mm:ss", s)
	}
	return t, nil
}

// parseTimeFast parses exactly "yyyy-MM-dd HH:mm:ss" with valid field
// ranges; anything else is left to time.ParseInLocation.
func parseTimeFast(s string) (time.Time, bool) {
	if len(s) != len(TimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 28 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false // days 29-31 go the slow, fully checked way
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, Beijing), true
}
