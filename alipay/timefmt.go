package alipay

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
