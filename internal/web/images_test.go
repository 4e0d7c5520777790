package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func (h *harness) postGoods(c *http.Cookie, fields map[string]string, file string, data []byte) (*http.Response, string) {
	h.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if data != nil {
		fw, _ := mw.CreateFormFile("image", file)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", h.srv.URL+"/admin/goods", &b)
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

// TestGoodsPicture: a picture uploaded with the goods form is recognised by
// its bytes, kept, listed and served with caching headers; an oversize file
// or one that is not a JPEG, PNG or GIF is refused with a message and saves
// nothing.
func TestGoodsPicture(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.login()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	img.Set(1, 1, color.RGBA{200, 0, 0, 255})
	var pic bytes.Buffer
	png.Encode(&pic, img)
	fields := map[string]string{"name": "全麦面包", "price": "12.00", "description": "每日新鲜出炉"}

	for _, bad := range []struct {
		name string
		data []byte
		want int
		msg  string
	}{
		{"x.png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 1<<20)...), http.StatusRequestEntityTooLarge, "图片太大"},
		{"x.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), http.StatusUnprocessableEntity, "只能上传 JPEG、PNG 或 GIF 图片"},
		{"x.png", []byte("\x89PNG\r\n\x1a\nnot really"), http.StatusUnprocessableEntity, "图片文件已损坏"},
	} {
		resp, body := h.postGoods(c, fields, bad.name, bad.data)
		if resp.StatusCode != bad.want || !strings.Contains(body, bad.msg) || !strings.Contains(body, `id="form-error"`) {
			t.Errorf("%s (%d bytes): %s", bad.name, len(bad.data), resp.Status)
		}
	}
	if gs, _ := h.db.ListGoods(t.Context(), true); len(gs) != 1 {
		t.Fatalf("refused uploads saved goods: %d", len(gs))
	}

	resp, body := h.postGoods(c, fields, "bread.png", pic.Bytes())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %s %s", resp.Status, body)
	}
	gs, _ := h.db.ListGoods(t.Context(), false)
	g := gs[len(gs)-1]
	if g.Name != "全麦面包" || g.Description != "每日新鲜出炉" || g.ImageVersion == "" {
		t.Fatalf("saved goods %+v", g)
	}
	_, page := h.get("/")
	src := "/goods/" + itoa(g.ID) + "/image?v=" + g.ImageVersion
	if !strings.Contains(page, `src="`+src+`"`) || !strings.Contains(page, "每日新鲜出炉") || !strings.Contains(page, "¥12.00") {
		t.Fatalf("storefront does not show the picture and description")
	}
	resp, data := h.get(src)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || data != pic.String() ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("ETag") == "" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("picture: %s %v", resp.Status, resp.Header)
	}
	req, _ := http.NewRequest("GET", h.srv.URL+src, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if r2, err := h.client.Do(req); err != nil || r2.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %v %v", r2, err)
	}
	if resp, _ := h.get("/goods/" + itoa(h.goods.ID) + "/image"); resp.StatusCode != 404 {
		t.Errorf("goods without a picture: %s", resp.Status)
	}
}
