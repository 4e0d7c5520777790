package pictures

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// corners is a w×h picture whose top-left quarter is red, top-right green,
// bottom-left blue and bottom-right white.
func corners(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 0, 0, 255}
			switch {
			case x >= w/2 && y < h/2:
				c = color.RGBA{0, 255, 0, 255}
			case x < w/2 && y >= h/2:
				c = color.RGBA{0, 0, 255, 255}
			case x >= w/2 && y >= h/2:
				c = color.RGBA{255, 255, 255, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// colourAt names the dominant colour at (x, y): r, g, b, w or ?.
func colourAt(m image.Image, x, y int) string {
	r, g, b, _ := m.At(x, y).RGBA()
	hi := func(v uint32) bool { return v > 0xC000 }
	lo := func(v uint32) bool { return v < 0x4000 }
	switch {
	case hi(r) && lo(g) && lo(b):
		return "r"
	case lo(r) && hi(g) && lo(b):
		return "g"
	case lo(r) && lo(g) && hi(b):
		return "b"
	case hi(r) && hi(g) && hi(b):
		return "w"
	}
	return "?"
}

// quadrants reads the four quarters of m: top-left, top-right,
// bottom-left, bottom-right.
func quadrants(m image.Image) string {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	return colourAt(m, w/4, h/4) + colourAt(m, 3*w/4, h/4) + colourAt(m, w/4, 3*h/4) + colourAt(m, 3*w/4, 3*h/4)
}

// TestOrient: each EXIF orientation moves the corners where the EXIF
// specification says the picture is upright (the stored picture rgbw
// read row by row).
func TestOrient(t *testing.T) {
	t.Parallel()
	want := map[int]string{1: "rgbw", 2: "grwb", 3: "wbgr", 4: "bwrg", 5: "rbgw", 6: "brwg", 7: "wgbr", 8: "gwrb"}
	for o := 1; o <= 8; o++ {
		m := orient(corners(8, 4), o)
		w, h := m.Bounds().Dx(), m.Bounds().Dy()
		if (o >= 5) != (w == 4 && h == 8) {
			t.Errorf("orientation %d: %d×%d", o, w, h)
		}
		if got := quadrants(m); got != want[o] {
			t.Errorf("orientation %d: quadrants %s, want %s", o, got, want[o])
		}
	}
}

// TestProcessTurnsAndScales: a 1200×600 JPEG with orientation 6 becomes
// upright copies of 400×800 and 200×400, JPEG, with the picture's
// top-left (red) at the top right, as a phone held upright took it.
func TestProcessTurnsAndScales(t *testing.T) {
	t.Parallel()
	data := WithOrientation(encodeJPEG(t, corners(1200, 600)), 6)
	if o := Orientation(data); o != 6 {
		t.Fatalf("Orientation = %d", o)
	}
	r, err := Process(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != "jpeg" || r.Orientation != 6 || r.Width != 600 || r.Height != 1200 {
		t.Errorf("result %s, orientation %d, %d×%d", r.Format, r.Orientation, r.Width, r.Height)
	}
	for _, c := range []struct {
		copy Copy
		w, h int
	}{{r.Large, 400, 800}, {r.Small, 200, 400}} {
		m, format, err := image.Decode(bytes.NewReader(c.copy.Data))
		if err != nil || format != "jpeg" || c.copy.ContentType != "image/jpeg" {
			t.Fatalf("copy: %s %s %v", format, c.copy.ContentType, err)
		}
		if b := m.Bounds(); b.Dx() != c.w || b.Dy() != c.h || c.copy.Width != c.w || c.copy.Height != c.h {
			t.Errorf("copy %v (says %d×%d), want %d×%d", b, c.copy.Width, c.copy.Height, c.w, c.h)
		}
		if q := quadrants(m); q != "brwg" {
			t.Errorf("copy %d×%d quadrants %s, want brwg", c.w, c.h, q)
		}
		if Orientation(c.copy.Data) != 1 {
			t.Errorf("a copy keeps an orientation")
		}
	}
}

// TestProcessSmallAndTransparent: a picture smaller than the squares keeps
// its size; one with transparency stays PNG.
func TestProcessSmallAndTransparent(t *testing.T) {
	t.Parallel()
	m := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for i := range m.Pix {
		m.Pix[i] = 0x80
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	r, err := Process(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != "png" || r.Large.ContentType != "image/png" || r.Large.Width != 300 || r.Large.Height != 200 ||
		r.Small.Width != 300 || r.Small.Height != 200 {
		t.Errorf("%s: large %s %d×%d, small %d×%d", r.Format, r.Large.ContentType, r.Large.Width, r.Large.Height, r.Small.Width, r.Small.Height)
	}
	if _, _, err := image.Decode(bytes.NewReader(r.Small.Data)); err != nil {
		t.Error(err)
	}
}

// TestProcessRefuses: empty, too large, not a picture, damaged, and a
// decompression bomb (a tiny JPEG whose header claims 10000×10000 pixels),
// each with its error, the bomb without decoding.
func TestProcessRefuses(t *testing.T) {
	t.Parallel()
	small := encodeJPEG(t, corners(16, 16))
	bomb := bytes.Clone(small)
	i := bytes.Index(bomb, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	// SOF0: marker, length (2), precision (1), height (2), width (2).
	bomb[i+5], bomb[i+6], bomb[i+7], bomb[i+8] = 0x27, 0x10, 0x27, 0x10
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"too large", append(bytes.Clone(small), make([]byte, MaxBytes)...), ErrTooLarge},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ErrFormat},
		{"damaged", small[:len(small)/2], ErrCorrupt},
		{"bomb", bomb, ErrTooMany},
	} {
		if _, err := Process(c.data); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestOrientationSegments: orientation in big- and little-endian TIFF,
// after other segments, and the malformed cases that must read as 1.
func TestOrientationSegments(t *testing.T) {
	t.Parallel()
	base := encodeJPEG(t, corners(8, 8))
	if o := Orientation(base); o != 1 {
		t.Errorf("plain JPEG: %d", o)
	}
	for o := 1; o <= 8; o++ {
		if got := Orientation(WithOrientation(base, o)); got != o {
			t.Errorf("big-endian %d: %d", o, got)
		}
	}
	le := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, // an APP0 first
		0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,
		'I', 'I', '*', 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0}
	if o := Orientation(le); o != 8 {
		t.Errorf("little-endian after APP0: %d", o)
	}
	for name, data := range map[string][]byte{
		"cut":          le[:len(le)-6],
		"value 9":      append(bytes.Clone(le[:36]), append([]byte{9, 0}, le[38:]...)...),
		"type LONG":    append(bytes.Clone(le[:30]), append([]byte{4, 0}, le[32:]...)...),
		"not jpeg":     []byte("Exif"),
		"ifd past end": append(bytes.Clone(le[:22]), append([]byte{0xFF, 0, 0, 0}, le[26:]...)...),
	} {
		if o := Orientation(data); o != 1 {
			t.Errorf("%s: %d", name, o)
		}
	}
}

// FuzzOrientation: any bytes give an orientation from 1 to 8, and never
// a panic or an out-of-range read.
func FuzzOrientation(f *testing.F) {
	f.Add(WithOrientation([]byte{0xFF, 0xD8, 0xFF, 0xD9}, 6))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 8, 'E', 'x', 'i', 'f', 0, 0})
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,
		'I', 'I', '*', 0, 8, 0, 0, 0, 0xFF, 0xFF, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := Orientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
