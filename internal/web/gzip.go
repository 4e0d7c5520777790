package web

import (
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Pages, the stylesheet and SVG pictures are sent gzip-compressed to
// clients that accept it (standard library compress/gzip). Other answers
// are sent as they are: pictures in JPEG, PNG or GIF are compressed
// already, and the notify endpoint's answer and the API stay plain.

// compressible reports whether a Content-Type is compressed: HTML, CSS and
// SVG.
func compressible(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	switch strings.TrimSpace(strings.ToLower(mt)) {
	case "text/html", "text/css", "image/svg+xml":
		return true
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: named
// with a q-value above 0, or not named and allowed by "*".
func acceptsGzip(header string) bool {
	gzipQ, starQ := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(strings.ToLower(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		if name == "gzip" {
			gzipQ = q
		} else {
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return w
}}

// Gzip compresses HTML, CSS and SVG answers for clients that accept gzip.
// Every such answer says Vary: Accept-Encoding, compressed or not; a
// compressed one loses its Content-Length and gets a weak ETag (it is no
// longer the same bytes). HEAD requests, range requests and answers that
// already carry a Content-Encoding pass through unchanged.
func Gzip(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gw := &gzipWriter{ResponseWriter: w, accept: acceptsGzip(r.Header.Get("Accept-Encoding")) &&
			r.Method != http.MethodHead && r.Header.Get("Range") == ""}
		defer gw.close()
		h.ServeHTTP(gw, r)
	})
}

type gzipWriter struct {
	http.ResponseWriter
	accept      bool
	wroteHeader bool
	gz          *gzip.Writer // set once compressing
}

func (w *gzipWriter) WriteHeader(code int) {
	if w.wroteHeader {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.wroteHeader = true
	h := w.Header()
	if compressible(h.Get("Content-Type")) {
		h.Add("Vary", "Accept-Encoding")
		if w.accept && h.Get("Content-Encoding") == "" && code != http.StatusNoContent && code != http.StatusNotModified &&
			code != http.StatusPartialContent && code >= 200 {
			h.Del("Content-Length")
			h.Del("Accept-Ranges")
			h.Set("Content-Encoding", "gzip")
			if et := h.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
				h.Set("ETag", "W/"+et)
			}
			w.gz = gzipWriters.Get().(*gzip.Writer)
			w.gz.Reset(w.ResponseWriter)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *gzipWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", http.DetectContentType(b))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.gz != nil {
		return w.gz.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what was written so far, compressed as far as it goes.
func (w *gzipWriter) Flush() {
	if w.gz != nil {
		_ = w.gz.Flush()
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *gzipWriter) close() {
	if w.gz == nil {
		return
	}
	_ = w.gz.Close()
	w.gz.Reset(nil)
	gzipWriters.Put(w.gz)
	w.gz = nil
}
