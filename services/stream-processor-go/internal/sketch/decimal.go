package sketch

import (
	"strconv"
	"sync"
)

// The decimal text of 0..65535, made once: a sketch's state is mostly small integers (HyperLogLog register indexes below
// 2^16 and values below 64, DDSketch bin keys), written at every flush of every changed window, and strconv.AppendInt's
// division loop was a third of the stage's CPU under live load (a window's sparse HyperLogLog alone is up to 16k
// integers). Appending a slice of this table writes the same bytes.
const decimalTableSize = 1 << 16

var (
	decimalOnce   sync.Once
	decimalDigits []byte
	decimalEnds   []uint32 // decimalDigits[decimalEnds[n-1]:decimalEnds[n]] is n (from 0 for n = 0)
)

func buildDecimalTable() {
	decimalDigits = make([]byte, 0, 5*decimalTableSize)
	decimalEnds = make([]uint32, decimalTableSize)
	for n := 0; n < decimalTableSize; n++ {
		decimalDigits = strconv.AppendInt(decimalDigits, int64(n), 10)
		decimalEnds[n] = uint32(len(decimalDigits))
	}
}

// appendInt appends n in decimal, as strconv.AppendInt(b, n, 10) does.
func appendInt(b []byte, n int64) []byte {
	if n < 0 || n >= decimalTableSize {
		return strconv.AppendInt(b, n, 10)
	}
	decimalOnce.Do(buildDecimalTable)
	start := uint32(0)
	if n > 0 {
		start = decimalEnds[n-1]
	}
	return append(b, decimalDigits[start:decimalEnds[n]]...)
}
