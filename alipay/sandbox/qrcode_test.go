package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The error correction of the standard's worked example "HELLO WORLD" at
// 1-M (ISO/IEC 18004, as the Thonky QR tutorial walks through it).
func TestReedSolomonKnownVector(t *testing.T) {
	t.Parallel()
	data := []byte{32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17}
	want := []byte{196, 35, 39, 119, 235, 215, 231, 226, 93, 23}
	if got := reedSolomon(data, 10); !slices.Equal(got, want) {
		t.Fatalf("EC codewords %v, want %v", got, want)
	}
}

// The format information strings of level M from the standard's table.
func TestFormatBitsLevelM(t *testing.T) {
	t.Parallel()
	want := []string{"101010000010010", "101000100100101", "101111001111100", "101101101001011",
		"100010111111001", "100000011001110", "100111110010111", "100101010100000"}
	for mask, w := range want {
		if got := fmt.Sprintf("%015b", formatBits(mask)); got != w {
			t.Errorf("mask %d: %s, want %s", mask, got, w)
		}
	}
}

// readQR decodes a drawn version 1 symbol the way a reader does: format
// bits from around the top-left finder, unmask, read the zigzag, check the
// error correction, and parse numeric mode.
func readQR(t *testing.T, q qrCode) string {
	t.Helper()
	// Function modules, as a reader knows them for version 1.
	var fn [qrSize][qrSize]bool
	for r := range qrSize {
		for c := range qrSize {
			inFinder := (r < 9 && c < 9) || (r < 9 && c >= qrSize-8) || (r >= qrSize-8 && c < 9)
			fn[r][c] = inFinder || r == 6 || c == 6
		}
	}
	format := 0
	for i := range 6 {
		if q[i][8] {
			format |= 1 << i
		}
	}
	for i, rc := range [][2]int{{7, 8}, {8, 8}, {8, 7}} {
		if q[rc[0]][rc[1]] {
			format |= 1 << (6 + i)
		}
	}
	for i := 9; i < 15; i++ {
		if q[8][14-i] {
			format |= 1 << i
		}
	}
	mask := -1
	for m := range 8 {
		if formatBits(m) == format {
			mask = m
		}
	}
	if mask < 0 {
		t.Fatalf("format bits %015b are no level-M format", format)
	}
	var bits []bool
	for right := qrSize - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for vert := range qrSize {
			r := vert
			if (right+1)&2 == 0 {
				r = qrSize - 1 - vert
			}
			for j := range 2 {
				c := right - j
				if !fn[r][c] {
					bits = append(bits, q[r][c] != qrMask(mask, r, c))
				}
			}
		}
	}
	if len(bits) != (qrData+qrEC)*8 {
		t.Fatalf("%d data modules", len(bits))
	}
	cw := make([]byte, qrData+qrEC)
	for i, b := range bits {
		if b {
			cw[i/8] |= 0x80 >> (i % 8)
		}
	}
	if !slices.Equal(reedSolomon(cw[:qrData], qrEC), cw[qrData:]) {
		t.Fatal("error correction codewords do not match the data")
	}
	next := func(n int) int {
		v := 0
		for range n {
			v = v<<1 | int(cw[0]>>7)
			for i := range cw {
				cw[i] <<= 1
				if i+1 < len(cw) {
					cw[i] |= cw[i+1] >> 7
				}
			}
		}
		return v
	}
	if m := next(4); m != 1 {
		t.Fatalf("mode %04b, want numeric", m)
	}
	n := next(10)
	var out strings.Builder
	for n > 0 {
		k := min(3, n)
		out.WriteString(fmt.Sprintf("%0*d", k, next([]int{0, 4, 7, 10}[k])))
		n -= k
	}
	return out.String()
}

func TestQRPayCodeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"286519047739582613", "1", "0123456789", strings.Repeat("9", 34)} {
		q, err := qrNumeric(code)
		if err != nil {
			t.Fatal(err)
		}
		if got := readQR(t, q); got != code {
			t.Fatalf("read %q, want %q", got, code)
		}
		// Finder patterns, timing and the dark module are where readers look.
		for _, o := range [][2]int{{0, 0}, {0, qrSize - 7}, {qrSize - 7, 0}} {
			if !q[o[0]][o[1]] || !q[o[0]+3][o[1]+3] || q[o[0]+1][o[1]+1] {
				t.Fatalf("finder at %v", o)
			}
		}
		if !q[6][8] || q[6][9] || !q[qrSize-8][8] {
			t.Fatal("timing pattern or dark module")
		}
	}
	for range 20 {
		code := newAuthCode()
		q, _ := qrNumeric(code)
		if got := readQR(t, q); got != code {
			t.Fatalf("read %q, want %q", got, code)
		}
	}
	if _, err := qrNumeric(strings.Repeat("1", 35)); err == nil {
		t.Fatal("35 digits fit version 1-M")
	}
	if _, err := qrNumeric("12a"); err == nil {
		t.Fatal("a letter was encoded in numeric mode")
	}
}
