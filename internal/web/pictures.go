package web

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"alishop/internal/shop"
)

// maxGoodsForm bounds the goods form's body: MaxPictures pictures of the
// largest size, plus the text fields and multipart framing. A picture over
// the limit is still read to its end (and dropped), so the admin gets the
// page saying it is too large rather than a reset connection. The deploy
// proxies' body limits stay above it (TestProxyBodyLimitsAboveTheShops).
const maxGoodsForm = shop.MaxPictures*shop.MaxImageBytes + 1<<20

// goodsFormTime is how long the admin's goods form may take to arrive and
// be answered (its pictures are large and a phone's upload may be slow);
// other requests keep the server's timeouts.
const goodsFormTime = 5 * time.Minute

// pictureForm is the pictures part of the goods form: the versions the
// form showed (seen, comma-separated), the main one chosen, the ones to
// remove, and the files added, each turned into its copies as it arrives
// so that only one upload is held in memory at a time.
type pictureForm struct {
	seen     []string
	main     string
	remove   []string
	add      []shop.NewPicture
	files    int   // files chosen
	refused  error // the first file refused (a shop.Error), if any
	tooLarge bool  // a file is over shop.MaxImageBytes
}

// field takes one of the pictures' text fields; it reports whether name
// was one.
func (f *pictureForm) field(name, value string) bool {
	switch name {
	case "seen":
		f.seen = nil
		for v := range strings.SplitSeq(value, ",") {
			if v != "" && len(f.seen) < shop.MaxPictures {
				f.seen = append(f.seen, v)
			}
		}
	case "main":
		f.main = value
	case "remove":
		if len(f.remove) < shop.MaxPictures {
			f.remove = append(f.remove, value)
		}
	default:
		return false
	}
	return true
}

// file reads one uploaded file (at most shop.MaxImageBytes of it are kept)
// and makes its copies. A file chosen beyond shop.MaxPictures, or after
// one was refused, is read and dropped.
func (f *pictureForm) file(part *multipart.Part) error {
	b, err := io.ReadAll(io.LimitReader(part, shop.MaxImageBytes+1))
	if err != nil {
		return err
	}
	if len(b) == 0 && part.FileName() == "" {
		return nil // the file input left empty
	}
	f.files++
	switch {
	case len(b) > shop.MaxImageBytes:
		f.tooLarge = true
		_, err := io.Copy(io.Discard, part)
		return err
	case f.refused != nil || f.tooLarge || f.files > shop.MaxPictures:
		return nil
	}
	p, err := shop.PreparePicture(b)
	if err != nil {
		f.refused = err
		return nil
	}
	f.add = append(f.add, p)
	return nil
}

// edit is the form's request of the pictures.
func (f *pictureForm) edit() shop.PictureEdit {
	return shop.PictureEdit{Seen: f.seen, Main: f.main, Remove: f.remove, Add: f.add}
}

// formError is the message for a form whose pictures cannot be taken, ""
// when they can, with the status to answer.
func (f *pictureForm) formError() (int, string) {
	switch {
	case f.tooLarge:
		return http.StatusRequestEntityTooLarge, "图片太大：每张最大 10 MB，请压缩后再上传。商品未保存。"
	case f.refused != nil:
		return http.StatusUnprocessableEntity, shop.ErrorMessage(f.refused) + "。商品未保存。"
	case f.files > shop.MaxPictures:
		return http.StatusUnprocessableEntity, "每件商品最多 " + strconv.Itoa(shop.MaxPictures) + " 张图片，这次选了 " + strconv.Itoa(f.files) + " 张。商品未保存。"
	}
	return 0, ""
}

// pictureView is one picture on the admin's goods form.
type pictureView struct {
	shop.Picture
	N    int  // 1-based position
	Main bool // the first picture
}

// pictureViews are goods pictures for the form, and the seen field's value.
func pictureViews(ps []shop.Picture) ([]pictureView, string) {
	out := make([]pictureView, len(ps))
	vs := make([]string, len(ps))
	for i, p := range ps {
		out[i] = pictureView{Picture: p, N: i + 1, Main: i == 0}
		vs[i] = p.Version
	}
	return out, strings.Join(vs, ",")
}

// goodsPicture is GET /goods/{id}/pictures/{version}/{size}: a copy of a
// goods picture, 800 or 400 pixels a side at most. The version names the
// picture's bytes, so the answer never changes and is cached for a year.
// Pictures are served with the type they were stored as and a CSP that
// lets nothing run.
func (s *Server) goodsPicture(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	size, _ := strconv.Atoi(r.PathValue("size"))
	version := r.PathValue("version")
	if err != nil || id <= 0 || len(version) > 64 {
		s.fail(w, r, shop.ErrImageNotFound)
		return
	}
	s.servePicture(w, r, id, version, size, true)
}

// goodsImage is GET /goods/{id}/image: the main picture's large copy, at
// the address pictures had when goods had only one. Its URL may carry the
// version (?v=), which makes it cacheable for a year.
func (s *Server) goodsImage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, shop.ErrImageNotFound)
		return
	}
	g, err := s.svc.Goods(r.Context(), id)
	if errors.Is(err, shop.ErrGoodsNotFound) || (err == nil && g.ImageVersion == "") {
		err = shop.ErrImageNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.servePicture(w, r, id, g.ImageVersion, shop.PictureLarge, r.URL.Query().Get("v") == g.ImageVersion)
}

func (s *Server) servePicture(w http.ResponseWriter, r *http.Request, id int64, version string, size int, immutable bool) {
	c, err := s.svc.GoodsPicture(r.Context(), id, version, size)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	etag := `"` + version + "-" + strconv.Itoa(size) + `"`
	h := w.Header()
	h.Set("Content-Type", c.ContentType)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("ETag", etag)
	if immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=60")
	}
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(c.Data)))
	if r.Method != http.MethodHead {
		w.Write(c.Data)
	}
}
