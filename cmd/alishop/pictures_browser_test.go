package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"alishop/internal/browsertest"
)

// phonePhoto is a photo as a phone held upright stores it: 4000×3000
// pixels (the sensor's landscape) with EXIF orientation 6 (turn 90°
// clockwise to view), about 6 MB of JPEG (noise keeps it from
// compressing). Stored, its left half is red and its right half blue, so
// upright the top is red and the bottom blue. The EXIF segment is written
// here byte by byte (little-endian TIFF, as many phones write it), not by
// the code under test.
func phonePhoto(t *testing.T) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	r := rand.New(rand.NewPCG(19, 6))
	for y := range 3000 {
		for x := range 4000 {
			base := [3]int{200, 40, 40}
			if x >= 2000 {
				base = [3]int{40, 60, 200}
			}
			i := m.PixOffset(x, y)
			for c, v := range base {
				m.Pix[i+c] = uint8(max(0, min(255, v+r.IntN(73)-36)))
			}
			m.Pix[i+3] = 255
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	tiff := []byte{'I', 'I', 0x2A, 0, 8, 0, 0, 0, // little-endian, IFD0 at offset 8
		2, 0, // two entries
		0x0F, 0x01, 2, 0, 6, 0, 0, 0, 26 + 12, 0, 0, 0, // Make, ASCII, 6 bytes at offset 38
		0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, // Orientation, SHORT, 1 value: 6
		0, 0, 0, 0, // no next IFD
		'P', 'h', 'o', 'n', 'e', 0}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(2+len(payload)))
	out := append([]byte{0xFF, 0xD8}, app1...)
	out = append(out, payload...)
	return append(out, b.Bytes()[2:]...)
}

// logStep logs when a step of a browser test is reached.
func logStep(t *testing.T, what string) chromedp.Action[chromedp.Void] {
	start := time.Now()
	return chromedp.Func(func(context.Context, *chromedp.Target) error {
		t.Logf("%s after %.1f s", what, time.Since(start).Seconds())
		return nil
	})
}

// pictureBox is what a screenshot of a square picture frame shows: the
// frame's size, the box of the picture's (saturated) pixels in it, and
// the colour at the box's top and bottom quarter.
type pictureBox struct {
	frameW, frameH           int
	left, top, right, bottom int // the picture's box, right and bottom exclusive
	topColour, bottomColour  string
}

func (b pictureBox) String() string {
	return fmt.Sprintf("frame %d×%d, picture %d×%d at (%d,%d), top %s, bottom %s",
		b.frameW, b.frameH, b.right-b.left, b.bottom-b.top, b.left, b.top, b.topColour, b.bottomColour)
}

func measurePicture(t *testing.T, shot []byte) pictureBox {
	t.Helper()
	m, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	bb := m.Bounds()
	b := pictureBox{frameW: bb.Dx(), frameH: bb.Dy(), left: bb.Dx(), top: bb.Dy()}
	saturated := func(x, y int) bool {
		r, g, bl, _ := m.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
		hi, lo := max(r, g, bl)>>8, min(r, g, bl)>>8
		return hi-lo > 80
	}
	for y := range b.frameH {
		for x := range b.frameW {
			if saturated(x, y) {
				b.left, b.right = min(b.left, x), max(b.right, x+1)
				b.top, b.bottom = min(b.top, y), max(b.bottom, y+1)
			}
		}
	}
	colour := func(y int) string {
		var r, bl int64
		for x := b.left; x < b.right; x++ {
			cr, _, cb, _ := m.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			r, bl = r+int64(cr>>8), bl+int64(cb>>8)
		}
		switch n := int64(max(1, b.right-b.left)); {
		case r/n > bl/n+60:
			return "red"
		case bl/n > r/n+60:
			return "blue"
		}
		return "?"
	}
	if b.right > b.left {
		h := b.bottom - b.top
		b.topColour, b.bottomColour = colour(b.top+h/4), colour(b.top+3*h/4)
	}
	return b
}

// TestGoodsPictures: a 6 MB 4000×3000 phone photo with EXIF orientation 6
// is added through the real admin goods form (on a phone), stored upright
// (3000×4000, portrait) as copies of at most 800 and 400 px, and the
// storefront card shows the whole picture in a square frame: a screenshot
// of the card's picture at 390 and at 1280 px has a square frame with the
// portrait picture inside, its full height, ¾ as wide, centred, red on top
// and blue below (as the phone was held).
func TestGoodsPictures(t *testing.T) {
	t.Parallel()
	exe := browsertest.Chromium(t, "the pictures test")
	dir := t.TempDir()
	p := startShop(t, filepath.Join(dir, "data"))
	photo := phonePhoto(t)
	if n := len(photo); n < 5_500_000 || n > 6_500_000 {
		t.Fatalf("the photo has %d bytes, not about 6 MB", n)
	}
	file := filepath.Join(dir, "IMG_20261204_031500.jpg")
	if err := os.WriteFile(file, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("photo: %d bytes, 4000×3000, EXIF orientation 6", len(photo))

	// Logged in outside the tab (the login page is tested elsewhere): the
	// tab's time goes to the upload.
	session := p.login()
	browser := testBrowser(t, exe)
	ctx, console := browsertest.NewTab(t, browser, 390, 844, true)
	var id string
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: session.Name, Value: session.Value, URL: p.base + "/"})
			return err
		}),
		chromedp.Navigate(p.base+"/admin/goods/new"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "竖拍的青花瓷瓶"),
		chromedp.SendKeys(chromedp.CSS(`#price`), "128.00"),
		chromedp.SetUploadFiles(chromedp.CSS(`#pictures`), []string{file}),
		logStep(t, "photo chosen"),
		chromedp.Click(chromedp.CSS(`#save`)),
		chromedp.WaitVisible(chromedp.CSS(`#admin-goods`)),
		logStep(t, "saved"),
		fitsViewport(t, "the goods list after the upload"),
		browsertest.Into(&id, chromedp.Evaluate[string](`[...document.querySelectorAll("#admin-goods tr[data-goods-id]")].pop().dataset.goodsId`)),
	)
	if err != nil {
		t.Fatalf("adding goods with the photo: %v\n%s", err, p.stderr)
	}

	// The card's copies: their sizes and which way is up.
	var srcset string
	card := `li[data-goods-id="` + id + `"] img.goods-img`
	err = chromedp.Do(ctx,
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(card)),
		browsertest.Into(&srcset, chromedp.Evaluate[string](`document.querySelector('`+card+`').getAttribute("srcset")`)),
	)
	if err != nil {
		t.Fatalf("storefront: %v", err)
	}
	var urls []string
	for c := range strings.SplitSeq(srcset, ",") {
		urls = append(urls, strings.Fields(c)[0])
	}
	if len(urls) != 2 || !strings.HasSuffix(urls[0], "/400") || !strings.HasSuffix(urls[1], "/800") {
		t.Fatalf("srcset %q", srcset)
	}
	for i, want := range [][2]int{{300, 400}, {600, 800}} {
		resp, body := p.do("GET", urls[i], nil, nil)
		m, format, err := image.Decode(strings.NewReader(body))
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("%s: %s %v", urls[i], resp.Status, err)
		}
		b := m.Bounds()
		r1, _, b1, _ := m.At(b.Dx()/2, b.Dy()/4).RGBA()
		r2, _, b2, _ := m.At(b.Dx()/2, 3*b.Dy()/4).RGBA()
		t.Logf("%s: %s %d×%d, %d bytes", urls[i], format, b.Dx(), b.Dy(), len(body))
		if b.Dx() != want[0] || b.Dy() != want[1] || r1 <= b1 || b2 <= r2 {
			t.Errorf("%s: %d×%d, want %d×%d upright (red on top, blue below)", urls[i], b.Dx(), b.Dy(), want[0], want[1])
		}
	}

	// The whole picture in a square frame, on a phone and a desktop.
	desk, deskConsole := browsertest.NewTab(t, browser, 1280, 800, false)
	for _, tab := range []struct {
		name string
		ctx  context.Context
	}{{"390 px", ctx}, {"1280 px", desk}} {
		var shot []byte
		var loaded bool
		err := chromedp.Do(tab.ctx,
			chromedp.Navigate(p.base+"/"),
			chromedp.WaitVisible(chromedp.CSS(card)),
			browsertest.Into(&loaded, chromedp.Poll[bool](`(() => { const i = document.querySelector('`+card+`'); return i.complete && i.naturalWidth > 0 })()`)),
			fitsViewport(t, "the storefront at "+tab.name),
			browsertest.Into(&shot, chromedp.Screenshot(chromedp.CSS(card))),
		)
		if err != nil {
			t.Fatalf("%s: %v", tab.name, err)
		}
		b := measurePicture(t, shot)
		t.Logf("storefront card at %s: %s", tab.name, b)
		w, h := b.right-b.left, b.bottom-b.top
		switch {
		case b.frameW < 150 || b.frameW-b.frameH > 1 || b.frameH-b.frameW > 1:
			t.Errorf("%s: the frame is not square: %s", tab.name, b)
		case h < b.frameH*97/100 || w*100 < h*72 || w*100 > h*78:
			t.Errorf("%s: not the whole portrait picture: %s", tab.name, b)
		case b.left-(b.frameW-b.right) > 2 || (b.frameW-b.right)-b.left > 2:
			t.Errorf("%s: the picture is not centred: %s", tab.name, b)
		case b.topColour != "red" || b.bottomColour != "blue":
			t.Errorf("%s: the picture is not upright: %s", tab.name, b)
		}
	}
	console.Check(t)
	deskConsole.Check(t)
}
