package shop

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/gif" // decoders for DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"time"
)

// Image is a goods picture as stored: bytes checked by CheckImage and the
// content type they were recognised as.
type Image struct {
	ContentType string
	Data        []byte
}

// Picture limits: what the admin may upload. The type is read from the
// bytes, never from the file name or the browser's claim.
const (
	MaxImageBytes = 1 << 20 // 1 MiB
	MaxImageSide  = 4096    // pixels
)

// ErrImageNotFound is returned for a goods item without a picture.
var ErrImageNotFound = &Error{Code: ENOTFOUND, Message: "商品图片不存在"}

// ImageStore keeps goods pictures (implemented by package store).
type ImageStore interface {
	// SetGoodsImage stores the picture of goods id and returns its new
	// version (shown in Goods.ImageVersion); ErrGoodsNotFound.
	SetGoodsImage(ctx context.Context, id int64, img Image, now time.Time) (string, error)
	DeleteGoodsImage(ctx context.Context, id int64, now time.Time) error
	// GoodsImage returns the picture and its version; ErrImageNotFound.
	GoodsImage(ctx context.Context, id int64) (Image, string, error)
}

// CheckImage recognises an uploaded picture by its content: a JPEG, PNG or
// GIF of at most MaxImageBytes whose header decodes to at most
// MaxImageSide pixels a side. Anything else (SVG, HTML, a renamed file) is
// refused with a message for the admin.
func CheckImage(data []byte) (Image, error) {
	if len(data) == 0 {
		return Image{}, Errorf(EINVALID, "图片文件是空的")
	}
	if len(data) > MaxImageBytes {
		return Image{}, Errorf(EINVALID, "图片太大：最大 1 MB，请压缩后再上传")
	}
	// The format is the one whose signature the bytes begin with, among
	// the decoders registered above (JPEG, PNG, GIF).
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	switch {
	case errors.Is(err, image.ErrFormat):
		return Image{}, Errorf(EINVALID, "只能上传 JPEG、PNG 或 GIF 图片，所选文件不是这几种图片")
	case err != nil:
		return Image{}, Errorf(EINVALID, "图片文件已损坏，无法读取")
	}
	ct := "image/" + format
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return Image{}, Errorf(EINVALID, "图片尺寸不能超过 %d×%d 像素", MaxImageSide, MaxImageSide)
	}
	return Image{ContentType: ct, Data: data}, nil
}

// SetGoodsImage checks and stores the picture of goods id.
func (s *Service) SetGoodsImage(ctx context.Context, id int64, data []byte) error {
	if s.images == nil {
		return Errorf(EUNAVAILABLE, "商品图片未启用")
	}
	img, err := CheckImage(data)
	if err != nil {
		return err
	}
	_, err = s.images.SetGoodsImage(ctx, id, img, s.now())
	return err
}

// DeleteGoodsImage removes the picture of goods id.
func (s *Service) DeleteGoodsImage(ctx context.Context, id int64) error {
	if s.images == nil {
		return Errorf(EUNAVAILABLE, "商品图片未启用")
	}
	return s.images.DeleteGoodsImage(ctx, id, s.now())
}

// GoodsImage returns the picture of goods id and its version.
func (s *Service) GoodsImage(ctx context.Context, id int64) (Image, string, error) {
	if s.images == nil {
		return Image{}, "", ErrImageNotFound
	}
	return s.images.GoodsImage(ctx, id)
}
