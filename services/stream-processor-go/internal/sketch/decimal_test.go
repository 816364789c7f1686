package sketch

import (
	"strconv"
	"testing"
)

func TestAppendIntWritesWhatStrconvWrites(t *testing.T) {
	for _, n := range []int64{0, 1, 9, 10, 63, 64, 99, 100, 999, 1000, 16383, 16384, 65534, 65535, 65536, 1 << 40, -1, -65535, -1 << 62} {
		if got, want := string(appendInt([]byte("x"), n)), "x"+strconv.FormatInt(n, 10); got != want {
			t.Errorf("appendInt(%d) = %q, want %q", n, got, want)
		}
	}
	for n := int64(0); n < decimalTableSize; n++ {
		if got := string(appendInt(nil, n)); got != strconv.FormatInt(n, 10) {
			t.Fatalf("appendInt(%d) = %q", n, got)
		}
	}
}
