package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// postGoods posts the goods form as a browser does (multipart), to path,
// with fields (repeated names as several values) and files as pictures.
func (h *harness) postGoods(c *http.Cookie, path string, fields [][2]string, files ...[]byte) (*http.Response, string) {
	h.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	for i, data := range files {
		fw, _ := mw.CreateFormFile("pictures", fmt.Sprintf("p%d.png", i))
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", h.srv.URL+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(c)
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// testPicture is a w×h PNG of one colour.
func testPicture(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var pictureSrcRe = regexp.MustCompile(`/goods/\d+/pictures/([0-9a-f]+)/(400|800)`)

// TestGoodsPictureForm: pictures uploaded with the goods form are
// recognised by their bytes and stored as copies of at most 800 and 400
// pixels, served with caching headers; the form reorders (主图) and removes
// them, refuses a seventh, an oversize file and one that is not a picture
// (saving nothing), and an edit from an outdated form. The address of the
// single picture of before still serves the main one.
func TestGoodsPictureForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.login()
	red := testPicture(t, 1000, 500, color.RGBA{200, 0, 0, 255})
	green := testPicture(t, 40, 30, color.RGBA{0, 160, 0, 255})
	blue := testPicture(t, 300, 900, color.RGBA{0, 0, 200, 255})
	fields := [][2]string{{"name", "全麦面包"}, {"price", "12.00"}, {"description", "每日新鲜出炉"}}

	for _, bad := range []struct {
		name  string
		files [][]byte
		want  int
		msg   string
	}{
		{"over 10 MB", [][]byte{append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 10<<20)...)}, http.StatusRequestEntityTooLarge, "图片太大"},
		{"svg", [][]byte{[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)}, http.StatusUnprocessableEntity, "只能上传 JPEG、PNG、WebP 或 GIF 图片"},
		{"damaged", [][]byte{[]byte("\x89PNG\r\n\x1a\nnot really")}, http.StatusUnprocessableEntity, "图片文件已损坏"},
		{"seven", [][]byte{green, green, green, green, green, green, green}, http.StatusUnprocessableEntity, "最多 6 张图片"},
	} {
		resp, body := h.postGoods(c, "/admin/goods", fields, bad.files...)
		if resp.StatusCode != bad.want || !strings.Contains(body, bad.msg) || !strings.Contains(body, `id="form-error"`) {
			t.Errorf("%s: %s", bad.name, resp.Status)
		}
	}
	if gs, _ := h.db.ListGoods(t.Context(), true); len(gs) != 1 {
		t.Fatalf("refused uploads saved goods: %d", len(gs))
	}

	resp, body := h.postGoods(c, "/admin/goods", fields, red, green)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %s %s", resp.Status, body)
	}
	gs, _ := h.db.ListGoods(t.Context(), false)
	g := gs[len(gs)-1]
	ps, _ := h.db.GoodsPictures(t.Context(), g.ID)
	if g.Name != "全麦面包" || len(ps) != 2 || g.ImageVersion != ps[0].Version || ps[0].Width != 1000 || ps[0].Height != 500 {
		t.Fatalf("saved goods %+v, pictures %+v", g, ps)
	}
	_, page := h.get("/")
	small := "/goods/" + itoa(g.ID) + "/pictures/" + g.ImageVersion + "/400"
	large := "/goods/" + itoa(g.ID) + "/pictures/" + g.ImageVersion + "/800"
	if !strings.Contains(page, `src="`+small+`"`) || !strings.Contains(page, large+" 800w") || !strings.Contains(page, "每日新鲜出炉") {
		t.Fatalf("storefront does not show the picture with its srcset")
	}
	for src, want := range map[string][2]int{small: {400, 200}, large: {800, 400}, "/goods/" + itoa(g.ID) + "/image": {800, 400}} {
		resp, data := h.get(src)
		cfg, format, err := image.DecodeConfig(strings.NewReader(data))
		if resp.StatusCode != 200 || err != nil || format != "jpeg" || resp.Header.Get("Content-Type") != "image/jpeg" ||
			cfg.Width != want[0] || cfg.Height != want[1] || resp.Header.Get("ETag") == "" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %s %s %d×%d %v %v", src, resp.Status, format, cfg.Width, cfg.Height, err, resp.Header)
		}
		if src != "/goods/"+itoa(g.ID)+"/image" && !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: Cache-Control %q", src, resp.Header.Get("Cache-Control"))
		}
		req, _ := http.NewRequest("GET", h.srv.URL+src, nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		if r2, err := h.client.Do(req); err != nil || r2.StatusCode != http.StatusNotModified {
			t.Fatalf("revalidation of %s: %v %v", src, r2, err)
		}
	}
	// A picture smaller than the squares keeps its size.
	if resp, data := h.get("/goods/" + itoa(g.ID) + "/pictures/" + ps[1].Version + "/800"); resp.StatusCode != 200 || !strings.HasPrefix(data, "\xff\xd8") {
		t.Fatalf("small picture: %s", resp.Status)
	}

	// The form shows both; blue is added, green made the main one, red removed.
	edit := "/admin/goods/" + itoa(g.ID)
	_, form := h.get(edit+"/edit", c)
	if got := pictureSrcRe.FindAllStringSubmatch(form, -1); len(got) != 2 || got[0][1] != ps[0].Version || got[1][1] != ps[1].Version {
		t.Fatalf("the form shows %v\n%s", got, form)
	}
	seen := ps[0].Version + "," + ps[1].Version
	resp, body = h.postGoods(c, edit, append(fields, [2]string{"seen", seen}, [2]string{"main", ps[1].Version}, [2]string{"remove", ps[0].Version}), blue)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %s %s", resp.Status, body)
	}
	after, _ := h.db.GoodsPictures(t.Context(), g.ID)
	if len(after) != 2 || after[0].Version != ps[1].Version || after[1].Width != 300 || after[1].Height != 900 {
		t.Fatalf("after the edit: %+v", after)
	}
	if g2, _ := h.db.Goods(t.Context(), g.ID); g2.ImageVersion != ps[1].Version {
		t.Errorf("main picture %q", g2.ImageVersion)
	}
	if resp, _ := h.get("/goods/" + itoa(g.ID) + "/pictures/" + ps[0].Version + "/400"); resp.StatusCode != 404 {
		t.Errorf("removed picture: %s", resp.Status)
	}
	// The goods page shows the main picture large and every picture as a
	// link that shows it large instead; out of range shows the main one.
	for q, want := range map[string]string{"": after[0].Version, "?picture=2": after[1].Version, "?picture=9": after[0].Version, "?picture=x": after[0].Version} {
		resp, page := h.get("/goods/" + itoa(g.ID) + q)
		shown := `id="picture-shown" src="/goods/` + itoa(g.ID) + "/pictures/" + want + `/800"`
		if resp.StatusCode != 200 || !strings.Contains(page, shown) || strings.Count(page, `href="/goods/`+itoa(g.ID)+`?picture=`) != 2 ||
			strings.Count(page, `aria-current="true" aria-label="第`) != 1 {
			t.Errorf("goods page%s: %s, want %s large and two thumbnails", q, resp.Status, want)
		}
	}
	// The same form again (outdated: it saw red) changes nothing.
	resp, body = h.postGoods(c, edit, append(fields, [2]string{"seen", seen}), red)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "商品图片刚被修改过") {
		t.Errorf("outdated form: %s", resp.Status)
	}
	// Five more would make seven.
	seen = after[0].Version + "," + after[1].Version
	many := [][]byte{}
	for i := range 5 {
		many = append(many, testPicture(t, 20+i, 20, color.RGBA{uint8(i * 40), 0, 0, 255}))
	}
	resp, body = h.postGoods(c, edit, append(fields, [2]string{"seen", seen}), many...)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "最多 6 张图片") {
		t.Errorf("seven in all: %s", resp.Status)
	}
	if n, _ := h.db.GoodsPictures(t.Context(), g.ID); len(n) != 2 {
		t.Errorf("%d pictures after the refused edits", len(n))
	}
	if resp, _ := h.get("/goods/" + itoa(h.goods.ID) + "/image"); resp.StatusCode != 404 {
		t.Errorf("goods without a picture: %s", resp.Status)
	}
	if resp, _ := h.get("/goods/" + itoa(g.ID) + "/pictures/" + after[0].Version + "/123"); resp.StatusCode != 404 {
		t.Errorf("a size that is not stored: %s", resp.Status)
	}
}
