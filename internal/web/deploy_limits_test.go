package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestProxyBodyLimitsAboveTheShops: the request body limits of the reverse
// proxies in deploy/ are clearly above the largest body the shop reads (the
// goods form with its picture, maxGoodsForm), multipart framing included,
// so a body the shop refuses gets the shop's own page and never the
// proxy's bare 413.
func TestProxyBodyLimitsAboveTheShops(t *testing.T) {
	t.Parallel()
	const headroom = 1 << 20 // multipart boundaries, part headers and the form's text fields
	for _, c := range []struct {
		file string
		re   *regexp.Regexp
		unit map[string]int64
	}{
		{"Caddyfile", regexp.MustCompile(`(?m)^\s*max_size\s+(\d+)(B|KB|MB|GB|KiB|MiB|GiB)\s*$`),
			map[string]int64{"B": 1, "KB": 1000, "MB": 1000 * 1000, "GB": 1000 * 1000 * 1000, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}},
		{"nginx.conf", regexp.MustCompile(`(?m)^\s*client_max_body_size\s+(\d+)([kKmMgG]?);`),
			map[string]int64{"": 1, "k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20, "g": 1 << 30, "G": 1 << 30}},
	} {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", c.file))
		if err != nil {
			t.Fatal(err)
		}
		ms := c.re.FindAllStringSubmatch(string(b), -1)
		if len(ms) == 0 {
			t.Errorf("deploy/%s sets no request body limit (its default is below the shop's %d bytes)", c.file, maxGoodsForm)
			continue
		}
		for _, m := range ms {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			limit := n * c.unit[m[2]]
			if limit < maxGoodsForm+headroom {
				t.Errorf("deploy/%s: %s is %d bytes, not clearly above the shop's maxGoodsForm (%d bytes) plus %d of multipart framing",
					c.file, strings.TrimSpace(m[0]), limit, maxGoodsForm, headroom)
			}
		}
	}
}
