package sandbox

// QR codes of payment codes, drawn as SVG squares by the wallet page. A
// payment code is 18 digits: numeric mode fits QR version 1 (21×21
// modules) at error correction level M (16 data and 10 error correction
// codewords), so this encoder makes that one symbol (ISO/IEC 18004).

import "errors"

const (
	qrSize     = 21 // version 1
	qrData     = 16 // data codewords, level M
	qrEC       = 10 // error correction codewords, level M
	qrQuiet    = 4  // blank margin, in modules
	qrMaxDigit = 34 // numeric capacity of version 1-M
)

// qrCode is a drawn symbol: dark modules by row and column.
type qrCode [qrSize][qrSize]bool

// qrNumeric encodes up to 34 digits as a version 1-M QR code.
func qrNumeric(digits string) (qrCode, error) {
	if digits == "" || len(digits) > qrMaxDigit {
		return qrCode{}, errors.New("qr: 1 to 34 digits")
	}
	for i := range len(digits) {
		if digits[i] < '0' || digits[i] > '9' {
			return qrCode{}, errors.New("qr: digits only")
		}
	}
	data := qrNumericCodewords(digits)
	all := append(data, reedSolomon(data, qrEC)...)
	var best qrCode
	bestPenalty := -1
	for mask := range 8 {
		var q qrCode
		var fn [qrSize][qrSize]bool
		q.drawFunctionPatterns(&fn)
		q.drawCodewords(all, &fn)
		q.applyMask(mask, &fn)
		q.drawFormat(mask, &fn)
		if p := q.penalty(); bestPenalty < 0 || p < bestPenalty {
			best, bestPenalty = q, p
		}
	}
	return best, nil
}

// bitWriter appends bits, most significant first.
type bitWriter struct {
	bytes []byte
	n     int // bits written
}

func (w *bitWriter) write(v, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.bytes = append(w.bytes, 0)
		}
		if v>>i&1 == 1 {
			w.bytes[w.n/8] |= 0x80 >> (w.n % 8)
		}
		w.n++
	}
}

// qrNumericCodewords is the data: mode 0001, a 10-bit count, the digits in
// groups of three (10, 7 or 4 bits), a terminator, then pad bytes.
func qrNumericCodewords(digits string) []byte {
	var w bitWriter
	w.write(0b0001, 4)
	w.write(len(digits), 10)
	for i := 0; i < len(digits); i += 3 {
		g := digits[i:min(i+3, len(digits))]
		v := 0
		for j := range len(g) {
			v = v*10 + int(g[j]-'0')
		}
		w.write(v, []int{0, 4, 7, 10}[len(g)])
	}
	w.write(0, min(4, qrData*8-w.n))
	for w.n%8 != 0 {
		w.write(0, 1)
	}
	for pad := 0; len(w.bytes) < qrData; pad++ {
		w.bytes = append(w.bytes, []byte{0xEC, 0x11}[pad%2])
	}
	w.n = qrData * 8
	return w.bytes
}

// gfMul multiplies in GF(256) with QR's polynomial x^8+x^4+x^3+x^2+1.
func gfMul(a, b byte) byte {
	var p byte
	for b > 0 {
		if b&1 == 1 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1d
		}
		b >>= 1
	}
	return p
}

// reedSolomon returns the n error correction codewords of data: the
// remainder of data·x^n divided by the generator ∏(x − α^i), i < n.
func reedSolomon(data []byte, n int) []byte {
	gen := []byte{1} // coefficients, highest degree first
	root := byte(1)
	for range n {
		next := make([]byte, len(gen)+1)
		for i, c := range gen {
			next[i] ^= c
			next[i+1] ^= gfMul(c, root)
		}
		gen = next
		root = gfMul(root, 2)
	}
	rem := make([]byte, n)
	for _, d := range data {
		f := d ^ rem[0]
		copy(rem, rem[1:])
		rem[n-1] = 0
		for i := range n {
			rem[i] ^= gfMul(gen[i+1], f)
		}
	}
	return rem
}

// set draws a function module and marks it as such.
func (q *qrCode) set(r, c int, dark bool, fn *[qrSize][qrSize]bool) {
	q[r][c] = dark
	fn[r][c] = true
}

// drawFunctionPatterns draws the finder patterns with their separators,
// the timing patterns and the dark module, and reserves the format areas.
func (q *qrCode) drawFunctionPatterns(fn *[qrSize][qrSize]bool) {
	for _, o := range [][2]int{{0, 0}, {0, qrSize - 7}, {qrSize - 7, 0}} {
		for dr := -1; dr <= 7; dr++ {
			for dc := -1; dc <= 7; dc++ {
				r, c := o[0]+dr, o[1]+dc
				if r < 0 || c < 0 || r >= qrSize || c >= qrSize {
					continue
				}
				ring := max(abs(dr-3), abs(dc-3)) // 0 centre … 4 separator
				q.set(r, c, ring != 2 && ring != 4, fn)
			}
		}
	}
	for i := 8; i < qrSize-8; i++ {
		q.set(6, i, i%2 == 0, fn)
		q.set(i, 6, i%2 == 0, fn)
	}
	q.drawFormat(0, fn) // reserves the areas; redrawn after masking
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// formatBits are the 15 format bits of level M and mask: 5 bits, their
// BCH(15,5) remainder, XOR 101010000010010.
func formatBits(mask int) int {
	data := 0b00<<3 | mask // level M is 00
	rem := data
	for range 10 {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	return (data<<10 | rem) ^ 0x5412
}

// drawFormat draws both copies of the format bits, and the dark module.
func (q *qrCode) drawFormat(mask int, fn *[qrSize][qrSize]bool) {
	bits := formatBits(mask)
	bit := func(i int) bool { return bits>>i&1 == 1 }
	for i := range 6 {
		q.set(i, 8, bit(i), fn)
	}
	q.set(7, 8, bit(6), fn)
	q.set(8, 8, bit(7), fn)
	q.set(8, 7, bit(8), fn)
	for i := 9; i < 15; i++ {
		q.set(8, 14-i, bit(i), fn)
	}
	for i := range 8 {
		q.set(8, qrSize-1-i, bit(i), fn)
	}
	for i := 8; i < 15; i++ {
		q.set(qrSize-15+i, 8, bit(i), fn)
	}
	q.set(qrSize-8, 8, true, fn)
}

// drawCodewords places the codewords' bits in the two-column zigzag from
// the bottom right, skipping function modules and the vertical timing
// column.
func (q *qrCode) drawCodewords(cw []byte, fn *[qrSize][qrSize]bool) {
	i := 0
	for right := qrSize - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		up := (right+1)&2 == 0
		for vert := range qrSize {
			r := vert
			if up {
				r = qrSize - 1 - vert
			}
			for j := range 2 {
				c := right - j
				if fn[r][c] || i >= len(cw)*8 {
					continue
				}
				q[r][c] = cw[i/8]>>(7-i%8)&1 == 1
				i++
			}
		}
	}
}

// qrMask reports whether mask inverts the module at row r, column c.
func qrMask(mask, r, c int) bool {
	switch mask {
	case 0:
		return (r+c)%2 == 0
	case 1:
		return r%2 == 0
	case 2:
		return c%3 == 0
	case 3:
		return (r+c)%3 == 0
	case 4:
		return (r/2+c/3)%2 == 0
	case 5:
		return r*c%2+r*c%3 == 0
	case 6:
		return (r*c%2+r*c%3)%2 == 0
	default:
		return ((r+c)%2+r*c%3)%2 == 0
	}
}

func (q *qrCode) applyMask(mask int, fn *[qrSize][qrSize]bool) {
	for r := range qrSize {
		for c := range qrSize {
			if !fn[r][c] && qrMask(mask, r, c) {
				q[r][c] = !q[r][c]
			}
		}
	}
}

// penalty scores a masked symbol by the standard's four rules: runs of
// five or more, 2×2 blocks, finder-like 1:1:3:1:1 patterns beside four
// light modules, and imbalance of dark and light.
func (q *qrCode) penalty() int {
	p := 0
	at := func(r, c int, transpose bool) bool {
		if transpose {
			return q[c][r]
		}
		return q[r][c]
	}
	finder := []bool{true, false, true, true, true, false, true}
	for _, tr := range []bool{false, true} {
		for r := range qrSize {
			run := 1
			for c := 1; c <= qrSize; c++ {
				if c < qrSize && at(r, c, tr) == at(r, c-1, tr) {
					run++
					continue
				}
				if run >= 5 {
					p += 3 + run - 5
				}
				run = 1
			}
			for c := 0; c+7 <= qrSize; c++ {
				match := true
				for k, d := range finder {
					if at(r, c+k, tr) != d {
						match = false
						break
					}
				}
				if match && (lightRun(q, r, c-4, c, tr) || lightRun(q, r, c+7, c+11, tr)) {
					p += 40
				}
			}
		}
	}
	dark := 0
	for r := range qrSize {
		for c := range qrSize {
			if q[r][c] {
				dark++
			}
			if r > 0 && c > 0 && q[r][c] == q[r-1][c] && q[r][c] == q[r][c-1] && q[r][c] == q[r-1][c-1] {
				p += 3
			}
		}
	}
	return p + abs(dark*20-qrSize*qrSize*10)/(qrSize*qrSize)*10
}

// lightRun reports whether modules [from, to) of a row (or column) are all
// light; outside the symbol counts as light (the quiet zone).
func lightRun(q *qrCode, r, from, to int, transpose bool) bool {
	for c := from; c < to; c++ {
		if c < 0 || c >= qrSize {
			continue
		}
		if transpose && q[c][r] || !transpose && q[r][c] {
			return false
		}
	}
	return true
}

// qrSquare is one dark module at row R, column C of the drawing (quiet
// zone included).
type qrSquare struct{ R, C int }

// squares lists the dark modules for the SVG.
func (q *qrCode) squares() []qrSquare {
	var out []qrSquare
	for r := range qrSize {
		for c := range qrSize {
			if q[r][c] {
				out = append(out, qrSquare{r + qrQuiet, c + qrQuiet})
			}
		}
	}
	return out
}
