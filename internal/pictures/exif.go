package pictures

import "encoding/binary"

// Orientation is a JPEG's EXIF orientation (tag 0x0112 of IFD0 in the APP1
// "Exif" segment): 1 upright, 2 mirrored, 3 upside down, 4 mirrored
// upside down, 5 mirrored and turned left, 6 turned right (the camera was
// held upright: the picture must be turned 90° clockwise), 7 mirrored and
// turned right, 8 turned left. It is 1 when data is no JPEG, carries no
// EXIF segment or no valid orientation. Only the segments before the
// image data are read, and every offset is checked against the segment's
// bounds, so any input is safe.
func Orientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	p := 2
	// A JPEG's header is a series of segments: 0xFF, a marker byte, a
	// 16-bit big-endian length that counts itself, the payload. The EXIF
	// segment comes first in practice; at most 64 segments are looked at.
	for range 64 {
		for p < len(data) && data[p] == 0xFF && p+1 < len(data) && data[p+1] == 0xFF {
			p++ // fill bytes
		}
		if p+4 > len(data) || data[p] != 0xFF {
			return 1
		}
		marker := data[p+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			return 1
		}
		if marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) { // no payload
			p += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return 1
		}
		seg := data[p+4 : p+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			if o := tiffOrientation(seg[6:]); o != 0 {
				return o
			}
		}
		p += 2 + n
	}
	return 1
}

// tiffOrientation reads the orientation from a TIFF structure (the EXIF
// payload): 0 when it has none or is malformed.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 0
	}
	count := int(bo.Uint16(t[ifd:]))
	for i := range count {
		e := ifd + 2 + int64(i)*12
		if e+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		// SHORT (type 3), one value, stored in the first two bytes of the
		// value field.
		if bo.Uint16(t[e+2:]) != 3 || bo.Uint32(t[e+4:]) != 1 {
			return 0
		}
		if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 0
	}
	return 0
}

// ExifOrientationSegment is an APP1 EXIF segment (marker included) that
// holds only an orientation, big-endian, for inserting after a JPEG's SOI
// (tests and tools that make pictures as a phone would).
func ExifOrientationSegment(o int) []byte {
	tiff := []byte{'M', 'M', 0, '*', 0, 0, 0, 8, // header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o >> 8), byte(o), 0, 0, // orientation, SHORT, 1
		0, 0, 0, 0} // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// WithOrientation returns the JPEG data with an EXIF orientation segment
// inserted right after its start-of-image marker.
func WithOrientation(jpegData []byte, o int) []byte {
	if len(jpegData) < 2 {
		return jpegData
	}
	out := make([]byte, 0, len(jpegData)+40)
	out = append(out, jpegData[:2]...)
	out = append(out, ExifOrientationSegment(o)...)
	return append(out, jpegData[2:]...)
}
