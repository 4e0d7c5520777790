package sandbox

import (
	"slices"
	"strings"
	"testing"
)

// The table's own invariants: every symbol is 11 modules with an even number
// of bar modules, and no two symbols are alike.
func TestCode128Table(t *testing.T) {
	t.Parallel()
	seen := map[string]int{}
	for v, w := range code128Widths {
		sum, bars := 0, 0
		for i := range len(w) {
			sum += int(w[i] - '0')
			if i%2 == 0 {
				bars += int(w[i] - '0')
			}
		}
		if len(w) != 6 || sum != 11 || bars%2 != 0 {
			t.Errorf("symbol %d %q: %d modules, %d in bars", v, w, sum, bars)
		}
		if o, dup := seen[w]; dup {
			t.Errorf("symbols %d and %d are both %q", o, v, w)
		}
		seen[w] = v
	}
}

// decode128C reads a drawn code back: the module pattern between the quiet
// zones, symbol by symbol, against the table.
func decode128C(t *testing.T, b barcode) string {
	t.Helper()
	modules := make([]bool, b.Width)
	for _, r := range b.Bars {
		for i := r.X; i < r.X+r.W; i++ {
			modules[i] = true
		}
	}
	// Run lengths from the first bar on.
	var runs []int
	start := quietModules
	for i := start; i < b.Width-quietModules; {
		j := i
		for j < b.Width-quietModules && modules[j] == modules[i] {
			j++
		}
		runs = append(runs, j-i)
		i = j
	}
	byWidths := map[string]int{}
	for v, w := range code128Widths {
		byWidths[w] = v
	}
	var syms []int
	for len(runs) > 7 {
		var w strings.Builder
		for _, r := range runs[:6] {
			w.WriteByte(byte('0' + r))
		}
		v, ok := byWidths[w.String()]
		if !ok {
			t.Fatalf("unknown symbol %q", w.String())
		}
		syms = append(syms, v)
		runs = runs[6:]
	}
	var stop strings.Builder
	for _, r := range runs {
		stop.WriteByte(byte('0' + r))
	}
	if stop.String() != code128Stop || len(syms) < 3 || syms[0] != code128StartC {
		t.Fatalf("frame: symbols %v, stop %q", syms, stop.String())
	}
	sum := syms[0]
	for i, v := range syms[1 : len(syms)-1] {
		sum += (i + 1) * v
	}
	if sum%103 != syms[len(syms)-1] {
		t.Fatalf("checksum %d, want %d", syms[len(syms)-1], sum%103)
	}
	var out strings.Builder
	for _, v := range syms[1 : len(syms)-1] {
		out.WriteByte(byte('0' + v/10))
		out.WriteByte(byte('0' + v%10))
	}
	return out.String()
}

func TestCode128PayCodeRoundTrip(t *testing.T) {
	t.Parallel()
	for range 50 {
		code := newAuthCode()
		b, err := code128C(code)
		if err != nil {
			t.Fatal(err)
		}
		// start + 9 pairs + checksum = 11 symbols of 11 modules, stop 13, quiet zones.
		if b.Width != 11*11+13+2*quietModules {
			t.Fatalf("width %d", b.Width)
		}
		if got := decode128C(t, b); got != code {
			t.Fatalf("decoded %s, want %s", got, code)
		}
	}
	// A known checksum: "1234" is start C (105), 12, 34: (105 + 12 + 2*34) % 103 = 82.
	if syms, _ := code128CSymbols("1234"); !slices.Equal(syms, []int{105, 12, 34, 82}) {
		t.Fatalf("symbols %v", syms)
	}
	b, _ := code128C("1234")
	if b.Bars[0].X != quietModules || b.Width != 4*11+13+2*quietModules {
		t.Fatalf("layout %+v", b)
	}
	if _, err := code128C("123"); err == nil {
		t.Fatal("an odd number of digits was encoded")
	}
	if _, err := code128C("12a4"); err == nil {
		t.Fatal("a letter was encoded")
	}
}
