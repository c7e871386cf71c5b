package artwork

import (
	"encoding/binary"
	"fmt"
)

// encodeICO draws lk at each of ICOSizes and packs the images into a
// Windows icon file. Each entry holds a PNG, which Windows has read since
// Vista and which keeps the alpha channel intact.
//
// Layout: a 6-byte ICONDIR (reserved 0, type 1 = icon, count), then one
// 16-byte ICONDIRENTRY per image, then the images. All little endian.
func encodeICO(lk look) ([]byte, error) {
	images := make([][]byte, len(ICOSizes))
	for i, size := range ICOSizes {
		c := newCanvas(size, smallSamples)
		data, err := encodePNG(c.render(trayLayers(c, lk)))
		if err != nil {
			return nil, fmt.Errorf("%d px: %w", size, err)
		}
		images[i] = data
	}
	return packICO(ICOSizes, images), nil
}

// packICO packs PNG images of the given sizes (at most 256) into an ICO.
func packICO(sizes []int, images [][]byte) []byte {
	const dirSize, entrySize = 6, 16
	le := binary.LittleEndian
	out := le.AppendUint16(nil, 0)                  // reserved
	out = le.AppendUint16(out, 1)                   // type: icon
	out = le.AppendUint16(out, uint16(len(images))) // count
	offset := dirSize + entrySize*len(images)
	for i, data := range images {
		side := byte(sizes[i] % 256)        // 256 is written as 0
		out = append(out, side, side, 0, 0) // width, height, palette size, reserved
		out = le.AppendUint16(out, 1)       // colour planes
		out = le.AppendUint16(out, 32)      // bits per pixel
		out = le.AppendUint32(out, uint32(len(data)))
		out = le.AppendUint32(out, uint32(offset))
		offset += len(data)
	}
	for _, data := range images {
		out = append(out, data...)
	}
	return out
}
