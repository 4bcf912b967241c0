package media

import (
	"bytes"
	"encoding/binary"
)

// EXIF orientation values: how the stored pixels must be transformed to
// show the picture upright. 1 is "as stored"; the rest are the flips and
// quarter turns of TIFF 6.0 tag 0x0112.
const (
	orientNormal     = 1
	orientFlipH      = 2
	orientRotate180  = 3
	orientFlipV      = 4
	orientTranspose  = 5
	orientRotate90   = 6 // 90° clockwise
	orientTransverse = 7
	orientRotate270  = 8 // 90° counter-clockwise
)

// jpegOrientation returns the EXIF orientation of a JPEG, 1 when it has
// none or it cannot be read. Only the marker segments before the first
// scan are walked, and every offset is checked against the data, so a
// hostile EXIF block can at worst be ignored.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return orientNormal
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return orientNormal
		}
		m := b[i+1]
		if m == 0xFF {
			i++
			continue
		}
		if m == 0xDA || m == 0xD9 {
			return orientNormal
		}
		end := i + 2 + int(binary.BigEndian.Uint16(b[i+2:]))
		if end > len(b) || end < i+4 {
			return orientNormal
		}
		if seg := b[i+4 : end]; m == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			if o := tiffOrientation(seg[6:]); o != 0 {
				return o
			}
		}
		i = end
	}
	return orientNormal
}

// pngOrientation returns the orientation in a PNG eXIf chunk (PNG 1.5),
// which viewers honour like a JPEG's; 1 when there is none.
func pngOrientation(b []byte) int {
	for i := len(pngMagic); i+8 <= len(b); {
		n := int64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		if typ == "IDAT" || n > int64(len(b)-i-12) {
			break // eXIf must come before the image data
		}
		if typ == "eXIf" {
			if o := tiffOrientation(b[i+8 : i+8+int(n)]); o != 0 {
				return o
			}
			break
		}
		i += 12 + int(n)
	}
	return orientNormal
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure (the body
// of an EXIF block): byte order, the magic 42, the offset of IFD0, then its
// 12-byte entries. It returns 0 when the tag is absent or malformed.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 0
	}
	n := int64(bo.Uint16(t[ifd:]))
	for k := range n {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		var v uint32
		switch typ := bo.Uint16(t[e+2:]); {
		case bo.Uint32(t[e+4:]) != 1:
			return 0
		case typ == 3: // SHORT, left-justified in the value field
			v = uint32(bo.Uint16(t[e+8:]))
		case typ == 4: // LONG, which some writers use
			v = bo.Uint32(t[e+8:])
		default:
			return 0
		}
		if v >= orientNormal && v <= orientRotate270 {
			return int(v)
		}
		return 0
	}
	return 0
}
