package store

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
)

// thumbSize is the longest side of an image preview, in pixels.
const thumbSize = 200

// thumbMaxPixels bounds the images that get a preview: decoding allocates
// memory per pixel, so a small file claiming a huge picture (a
// decompression bomb) is never decoded.
const thumbMaxPixels = 16_000_000

// makeThumb decodes a PNG, JPEG or GIF with the standard library and
// re-encodes a small copy (JPEG for photos, PNG otherwise, keeping
// transparency); only these re-encoded bytes are ever shown inline, never
// the upload. open returns a fresh reader over the file each time. A file
// that does not decode gets no preview (nil).
func makeThumb(contentType string, open func() io.Reader) ([]byte, string) {
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch contentType {
	case "image/png":
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case "image/jpeg":
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case "image/gif":
		decodeConfig, decode = gif.DecodeConfig, gif.Decode
	default:
		return nil, ""
	}
	cfg, err := decodeConfig(open())
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > thumbMaxPixels {
		return nil, ""
	}
	src, err := decode(open())
	if err != nil {
		return nil, ""
	}
	dst := shrink(src, thumbSize)
	var buf bytes.Buffer
	if contentType == "image/jpeg" {
		err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 82})
		if err != nil {
			return nil, ""
		}
		return buf.Bytes(), "image/jpeg"
	}
	if err := png.Encode(&buf, dst); err != nil {
		return nil, ""
	}
	return buf.Bytes(), "image/png"
}

// shrink scales an image to fit a box of side px (never enlarging), each
// pixel the average of a 2×2 grid of samples from its source area: simple,
// and smooth enough for a preview.
func shrink(src image.Image, px int) *image.NRGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := w, h
	if w > px || h > px {
		if w >= h {
			tw, th = px, max(1, h*px/w)
		} else {
			tw, th = max(1, w*px/h), px
		}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, tw, th))
	for y := 0; y < th; y++ {
		for x := 0; x < tw; x++ {
			var r, g, bl, a uint32
			for _, o := range [4][2]int{{1, 1}, {3, 1}, {1, 3}, {3, 3}} {
				sx := b.Min.X + (4*x+o[0])*w/(4*tw)
				sy := b.Min.Y + (4*y+o[1])*h/(4*th)
				c := color.NRGBAModel.Convert(src.At(sx, sy)).(color.NRGBA)
				r, g, bl, a = r+uint32(c.R), g+uint32(c.G), bl+uint32(c.B), a+uint32(c.A)
			}
			dst.SetNRGBA(x, y, color.NRGBA{R: uint8(r / 4), G: uint8(g / 4), B: uint8(bl / 4), A: uint8(a / 4)})
		}
	}
	return dst
}
