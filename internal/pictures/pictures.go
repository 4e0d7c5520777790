// Package pictures turns an uploaded goods picture into the copies the
// shop serves: it recognises the format by the bytes (JPEG, PNG, WebP,
// GIF), bounds the size before decoding, turns the picture upright by its
// EXIF orientation and scales it with golang.org/x/image/draw into squares
// of Large and Small pixels (the whole picture fitted, never cropped or
// enlarged). It knows nothing of goods, HTTP or storage.
package pictures

import (
	"bytes"
	"errors"
	"image"
	"image/draw"
	_ "image/gif" // decoders registered with package image
	"image/jpeg"
	"image/png"

	xdraw "golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// Bounds of an upload. MaxPixels is checked from the header, before any
// pixel is decoded, so a small file claiming a huge picture (a
// decompression bomb) costs nothing; decoding MaxPixels takes at most
// about 4 bytes a pixel (160 MB), and one picture is decoded at a time.
const (
	MaxBytes  = 10 << 20   // 10 MiB
	MaxPixels = 40_000_000 // width × height
)

// Copies: the long side of each stored copy, at most.
const (
	Large = 800 // the goods page
	Small = 400 // cards and thumbnails
)

// jpegQuality is the quality of the JPEG copies.
const jpegQuality = 85

// Errors of Process, for the caller to word.
var (
	ErrEmpty     = errors.New("pictures: empty file")
	ErrTooLarge  = errors.New("pictures: file over MaxBytes")
	ErrFormat    = errors.New("pictures: not a JPEG, PNG, WebP or GIF picture")
	ErrCorrupt   = errors.New("pictures: the picture cannot be read")
	ErrTooMany   = errors.New("pictures: more than MaxPixels")
	ErrTooNarrow = errors.New("pictures: a side of 0 pixels")
)

// Copy is one stored copy of a picture.
type Copy struct {
	ContentType   string // image/jpeg, or image/png for pictures with transparency
	Data          []byte
	Width, Height int
}

// Result is an upload turned into its copies.
type Result struct {
	Format        string // of the upload: jpeg, png, webp or gif
	Width, Height int    // of the upload, upright
	Orientation   int    // EXIF orientation applied (1 for none)
	Large, Small  Copy
}

// sem lets one picture be decoded at a time: decoding is what takes
// memory (up to about 4 bytes a pixel of the upload).
var sem = make(chan struct{}, 1)

// Check recognises data without decoding its pixels: its format and
// upright size, or an error.
func Check(data []byte) (format string, width, height int, err error) {
	switch {
	case len(data) == 0:
		return "", 0, 0, ErrEmpty
	case len(data) > MaxBytes:
		return "", 0, 0, ErrTooLarge
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	switch {
	case errors.Is(err, image.ErrFormat):
		return "", 0, 0, ErrFormat
	case err != nil:
		return "", 0, 0, ErrCorrupt
	case cfg.Width < 1 || cfg.Height < 1:
		return "", 0, 0, ErrTooNarrow
	case int64(cfg.Width)*int64(cfg.Height) > MaxPixels:
		return "", 0, 0, ErrTooMany
	}
	width, height = cfg.Width, cfg.Height
	if format == "jpeg" && Orientation(data) >= 5 {
		width, height = height, width
	}
	return format, width, height, nil
}

// Process checks data (Check), decodes it, scales it to fit squares of
// Large and Small pixels and turns the copies upright by the JPEG's EXIF
// orientation. Copies are JPEG unless the picture has transparency (PNG
// then). A picture smaller than a square keeps its size.
func Process(data []byte) (Result, error) {
	format, width, height, err := Check(data)
	if err != nil {
		return Result{}, err
	}
	sem <- struct{}{}
	defer func() { <-sem }()
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Result{}, ErrCorrupt
	}
	o := 1
	if format == "jpeg" {
		o = Orientation(data)
	}
	// Scale first, then turn: fitting into a square does not depend on
	// the orientation, and turning the copy is cheaper than the upload.
	large := fit(src, Large, xdraw.CatmullRom)
	src = nil
	small := fit(large, Small, xdraw.CatmullRom)
	large, small = orient(large, o), orient(small, o)
	r := Result{Format: format, Width: width, Height: height, Orientation: o}
	if r.Large, err = encode(large); err != nil {
		return Result{}, err
	}
	if r.Small, err = encode(small); err != nil {
		return Result{}, err
	}
	return r, nil
}

// fit scales src into a side×side square keeping its aspect ratio (never
// enlarging) into a new RGBA picture.
func fit(src image.Image, side int, s xdraw.Scaler) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > side || h > side {
		if w >= h {
			w, h = side, max(1, int((int64(h)*int64(side)+int64(w)/2)/int64(w)))
		} else {
			w, h = max(1, int((int64(w)*int64(side)+int64(h)/2)/int64(h))), side
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Src)
		return dst
	}
	s.Scale(dst, dst.Bounds(), src, b, xdraw.Src, nil)
	return dst
}

// orient returns m turned and mirrored as EXIF orientation o asks.
func orient(m *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return m
	}
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			// (sx, sy): the source pixel shown at (x, y).
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored upside down
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // turned 90° clockwise to be upright
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // turned 90° counter-clockwise to be upright
				sx, sy = w-1-y, x
			}
			si := m.PixOffset(sx, sy)
			di := dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], m.Pix[si:si+4])
		}
	}
	return dst
}

// encode writes m as JPEG, or as PNG when it has transparency.
func encode(m *image.RGBA) (Copy, error) {
	var b bytes.Buffer
	c := Copy{Width: m.Bounds().Dx(), Height: m.Bounds().Dy()}
	if m.Opaque() {
		c.ContentType = "image/jpeg"
		if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return Copy{}, err
		}
	} else {
		c.ContentType = "image/png"
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, m); err != nil {
			return Copy{}, err
		}
	}
	c.Data = b.Bytes()
	return c, nil
}
