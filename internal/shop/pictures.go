package shop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"alishop/internal/pictures"
)

// MaxPictures bounds the pictures of one goods item; the first is its main
// picture (on cards, in 我的订单, large on the goods page).
const MaxPictures = 6

// Picture limits: what the admin may upload. The type is read from the
// bytes, never from the file name or the browser's claim.
const (
	MaxImageBytes  = pictures.MaxBytes  // 10 MiB a picture
	MaxImagePixels = pictures.MaxPixels // width × height, read before decoding
)

// Picture sizes: the long side of the stored copies.
const (
	PictureLarge = pictures.Large // the goods page
	PictureSmall = pictures.Small // cards, lists, thumbnails
)

// Picture is one of a goods item's pictures.
type Picture struct {
	// Version names the picture (a hash of the uploaded bytes); it is in
	// the picture's URLs, so they never change and may be cached.
	Version string
	// Width and Height are the upload's, upright; 0 for a picture
	// stored before pictures were resized (served as it was uploaded).
	Width, Height int
}

// PictureCopy is a stored copy of a picture, ready to serve.
type PictureCopy struct {
	ContentType string
	Data        []byte
}

// NewPicture is an upload turned into its copies by PreparePicture. In the
// list given to PictureStore.SetGoodsPictures, an entry without copies is
// a picture the goods already has.
type NewPicture struct {
	Picture
	Large, Small PictureCopy
}

// PictureEdit is what the admin's goods form asks of the pictures.
type PictureEdit struct {
	// Seen is the versions the form showed, in order: the edit applies
	// only to those pictures (compare-and-set).
	Seen []string
	// Main is the version to become the main picture; "" keeps the order.
	Main string
	// Remove is the versions to delete.
	Remove []string
	// Add is the new pictures, appended in order.
	Add []NewPicture
}

// Empty reports whether e changes nothing.
func (e PictureEdit) Empty() bool {
	return len(e.Add) == 0 && len(e.Remove) == 0 && (e.Main == "" || len(e.Seen) > 0 && e.Main == e.Seen[0])
}

// Errors of the pictures.
var (
	ErrImageNotFound   = &Error{Code: ENOTFOUND, Message: "商品图片不存在"}
	ErrPicturesChanged = &Error{Code: ECONFLICT, Message: "商品图片刚被修改过，请重新打开编辑页面后再试"}
)

// PictureStore keeps goods pictures (implemented by package store).
type PictureStore interface {
	// GoodsPictures lists the pictures of goods id in order (no bytes).
	GoodsPictures(ctx context.Context, id int64) ([]Picture, error)
	// SetGoodsPictures makes list the pictures of goods id, in order, the
	// first its main picture (Goods.ImageVersion), if its pictures are
	// still the versions expect, in order; else ErrPicturesChanged.
	// ErrGoodsNotFound.
	SetGoodsPictures(ctx context.Context, id int64, expect []string, list []NewPicture, now time.Time) error
	// GoodsPicture returns the copy of the given size (PictureLarge or
	// PictureSmall) of picture version of goods id; ErrImageNotFound.
	GoodsPicture(ctx context.Context, id int64, version string, size int) (PictureCopy, error)
}

// PreparePicture recognises an uploaded picture by its content (a JPEG,
// PNG, WebP or GIF of at most MaxImageBytes and MaxImagePixels), turns it
// upright by its EXIF orientation and makes its copies. Anything else
// (SVG, HTML, a renamed file, a decompression bomb) is refused with a
// message for the admin.
func PreparePicture(data []byte) (NewPicture, error) {
	r, err := pictures.Process(data)
	switch {
	case errors.Is(err, pictures.ErrEmpty):
		return NewPicture{}, Errorf(EINVALID, "图片文件是空的")
	case errors.Is(err, pictures.ErrTooLarge):
		return NewPicture{}, Errorf(EINVALID, "图片太大：每张最大 10 MB")
	case errors.Is(err, pictures.ErrFormat):
		return NewPicture{}, Errorf(EINVALID, "只能上传 JPEG、PNG、WebP 或 GIF 图片，所选文件不是这几种图片")
	case errors.Is(err, pictures.ErrTooMany):
		return NewPicture{}, Errorf(EINVALID, "图片像素太多：最多 %d 万像素", MaxImagePixels/10000)
	case err != nil:
		return NewPicture{}, Errorf(EINVALID, "图片文件已损坏，无法读取")
	}
	sum := sha256.Sum256(data)
	return NewPicture{
		Picture: Picture{Version: hex.EncodeToString(sum[:8]), Width: r.Width, Height: r.Height},
		Large:   PictureCopy{ContentType: r.Large.ContentType, Data: r.Large.Data},
		Small:   PictureCopy{ContentType: r.Small.ContentType, Data: r.Small.Data},
	}, nil
}

// ArrangePictures decides a goods item's pictures after edit e, given its
// current ones: the seen pictures less the removed, the chosen main one
// first, then the new ones (a picture the goods already has is not added
// twice). It fails with ErrPicturesChanged when the current pictures are
// not those the form showed, and with EINVALID beyond MaxPictures.
func ArrangePictures(current []Picture, e PictureEdit) ([]NewPicture, error) {
	versions := make([]string, len(current))
	for i, p := range current {
		versions[i] = p.Version
	}
	if !slices.Equal(versions, e.Seen) {
		return nil, ErrPicturesChanged
	}
	var list []NewPicture
	for _, p := range current {
		if !slices.Contains(e.Remove, p.Version) {
			list = append(list, NewPicture{Picture: p})
		}
	}
	if i := slices.IndexFunc(list, func(p NewPicture) bool { return p.Version == e.Main }); i > 0 {
		main := list[i]
		list = append([]NewPicture{main}, slices.Delete(list, i, i+1)...)
	}
	kept := len(list)
	for _, p := range e.Add {
		if !slices.ContainsFunc(list, func(q NewPicture) bool { return q.Version == p.Version }) {
			list = append(list, p)
		}
	}
	if len(list) > MaxPictures {
		return nil, Errorf(EINVALID, "每件商品最多 %d 张图片：保留 %d 张，又添加了 %d 张，请少选几张或先删除旧图片",
			MaxPictures, kept, len(list)-kept)
	}
	return list, nil
}

// PlanPictures checks edit e of goods id's pictures (id 0: goods not yet
// saved) and returns the pictures to store with SetGoodsPictures.
func (s *Service) PlanPictures(ctx context.Context, id int64, e PictureEdit) ([]NewPicture, error) {
	var current []Picture
	if id != 0 {
		var err error
		if current, err = s.GoodsPictures(ctx, id); err != nil {
			return nil, err
		}
	}
	return ArrangePictures(current, e)
}

// SetGoodsPictures stores the pictures planned by PlanPictures, if goods
// id's pictures are still those seen.
func (s *Service) SetGoodsPictures(ctx context.Context, id int64, seen []string, list []NewPicture) error {
	if s.images == nil {
		return Errorf(EUNAVAILABLE, "商品图片未启用")
	}
	return s.images.SetGoodsPictures(ctx, id, seen, list, s.now())
}

// GoodsPictures lists the pictures of goods id, the main one first.
func (s *Service) GoodsPictures(ctx context.Context, id int64) ([]Picture, error) {
	if s.images == nil {
		return nil, nil
	}
	return s.images.GoodsPictures(ctx, id)
}

// GoodsPicture returns a copy of a picture of goods id (size PictureLarge
// or PictureSmall).
func (s *Service) GoodsPicture(ctx context.Context, id int64, version string, size int) (PictureCopy, error) {
	if s.images == nil || (size != PictureLarge && size != PictureSmall) {
		return PictureCopy{}, ErrImageNotFound
	}
	return s.images.GoodsPicture(ctx, id, version, size)
}
