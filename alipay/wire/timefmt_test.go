package wire

import (
	"strings"
	"testing"
	"time"
)

func TestParseTimeFastMatchesSlow(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"2024-01-02 15:04:05", "2024-02-28 23:59:59", "2024-02-29 00:00:00", "2023-02-29 00:00:00", "2024-04-31 12:00:00",
		"2024-13-01 00:00:00", "2024-00-10 00:00:00", "2024-01-00 00:00:00", "2024-01-02 24:00:00", "2024-01-02 23:60:00",
		"2024-01-02 23:59:60", "2024-1-02 15:04:05", "2024-01-02T15:04:05", "+024-01-02 15:04:05", "0000-01-01 00:00:00",
		"2021-07-14 09:51:36.631", "2021-07-14 09:51:36.6", "", "2024-01-02 15:04:0x",
	} {
		want, werr := time.ParseInLocation(TimeLayout, s, Beijing)
		if strings.Contains(s, ".") {
			want, werr = time.ParseInLocation(TimeLayout+"."+strings.Repeat("0", len(s)-strings.IndexByte(s, '.')-1), s, Beijing)
		}
		got, gerr := ParseTime(s)
		if (gerr == nil) != (werr == nil) || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; time.ParseInLocation: %v, %v", s, got, gerr, want, werr)
		}
		if gerr == nil && got.Location() != Beijing {
			t.Errorf("ParseTime(%q) zone %v", s, got.Location())
		}
	}
}
