package sketch

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"strconv"
)

// inversePowers[r] = 2^-r for every rank a register can hold (the TS INVERSE_POWERS): exact, and no Ldexp per register.
var inversePowers = func() (t [66]float64) {
	for r := range t {
		t[r] = math.Ldexp(1, -r)
	}
	return t
}()

// HyperLogLog is the TS stream processor's distinct counter (Flajolet et al., linear counting for small
// cardinalities): the first 8 bytes of a value's md5 as two big-endian 32-bit halves, registers merged by max.
type HyperLogLog struct {
	Precision int
	Registers []byte
}

// HyperLogLogJSON is the serialised form: sparse [index, rank] pairs while few are set, else base64 of all.
type HyperLogLogJSON struct {
	P int       `json:"p"`
	S *[][2]int `json:"s,omitempty"` // set (possibly empty) in the sparse form
	D string    `json:"d,omitempty"`
}

// NewHyperLogLog returns an empty counter of 2^precision registers (precision 4..16).
func NewHyperLogLog(precision int) (*HyperLogLog, error) {
	if precision < 4 || precision > 16 {
		return nil, errors.New("precision must be 4..16")
	}
	return &HyperLogLog{Precision: precision, Registers: make([]byte, 1<<precision)}, nil
}

// Hash is what Add computes a register from (HashOf once per event, AddHash per window, as the TS stage does).
type Hash struct{ H1, H2 uint32 }

// HashOf is md5 of the UTF-8 bytes, first 8 bytes.
func HashOf(value string) Hash {
	d := md5.Sum([]byte(value))
	return Hash{binary.BigEndian.Uint32(d[0:4]), binary.BigEndian.Uint32(d[4:8])}
}

// Add counts a value.
func (h *HyperLogLog) Add(value string) { h.AddHash(HashOf(value)) }

// AddHash counts a value by its hash.
func (h *HyperLogLog) AddHash(x Hash) {
	p := uint(h.Precision)
	index := x.H1 >> (32 - p)
	rest := x.H1 << p
	var rank int
	if rest != 0 {
		rank = bits.LeadingZeros32(rest) + 1
	} else {
		rank = 32 - h.Precision + bits.LeadingZeros32(x.H2) + 1
	}
	if byte(rank) > h.Registers[index] {
		h.Registers[index] = byte(rank)
	}
}

// Estimate is the distinct count: the same arithmetic, in the same order, as the TS estimate().
func (h *HyperLogLog) Estimate() int64 {
	m := float64(len(h.Registers))
	sum := 0.0
	zeros := 0
	for _, r := range h.Registers {
		sum += inversePowers[r]
		if r == 0 {
			zeros++
		}
	}
	if zeros == len(h.Registers) {
		return 0
	}
	alpha := 0.7213 / (1 + 1.079/m)
	raw := (alpha * m * m) / sum
	if raw <= 2.5*m && zeros > 0 {
		return jsRound(m * math.Log(m/float64(zeros)))
	}
	return jsRound(raw)
}

// jsRound is JavaScript's Math.round for the non-negative values here (halves up; x - floor(x) is exact).
func jsRound(x float64) int64 {
	f := math.Floor(x)
	if x-f >= 0.5 {
		return int64(f) + 1
	}
	return int64(f)
}

// JSON is the serialised counter (the TS toJSON format).
func (h *HyperLogLog) JSON() HyperLogLogJSON {
	var sparse [][2]int
	for i, r := range h.Registers {
		if r != 0 {
			sparse = append(sparse, [2]int{i, int(r)})
		}
	}
	if len(sparse)*4 < len(h.Registers) {
		if sparse == nil {
			sparse = [][2]int{}
		}
		return HyperLogLogJSON{P: h.Precision, S: &sparse}
	}
	return HyperLogLogJSON{P: h.Precision, D: base64.StdEncoding.EncodeToString(h.Registers)}
}

// AppendJSON appends JSON() in its JSON form to b without building it (the changelog writes one per changed window).
func (h *HyperLogLog) AppendJSON(b []byte) []byte {
	set := 0
	for _, r := range h.Registers {
		if r != 0 {
			set++
		}
	}
	b = strconv.AppendInt(append(b, `{"p":`...), int64(h.Precision), 10)
	if set*4 < len(h.Registers) {
		b = append(b, `,"s":[`...)
		first := true
		for i, r := range h.Registers {
			if r == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = strconv.AppendInt(append(b, '['), int64(i), 10)
			b = strconv.AppendInt(append(b, ','), int64(r), 10)
			b = append(b, ']')
		}
		return append(b, ']', '}')
	}
	b = base64.StdEncoding.AppendEncode(append(b, `,"d":"`...), h.Registers)
	return append(b, '"', '}')
}

// HyperLogLogFromJSON restores what JSON (or the TS toJSON) wrote.
func HyperLogLogFromJSON(j HyperLogLogJSON) (*HyperLogLog, error) {
	h, err := NewHyperLogLog(j.P)
	if err != nil {
		return nil, err
	}
	if j.D != "" {
		regs, err := base64.StdEncoding.DecodeString(j.D)
		if err != nil {
			return nil, err
		}
		if len(regs) != len(h.Registers) {
			return nil, errors.New("register count does not match precision")
		}
		h.Registers = regs
		return h, nil
	}
	if j.S == nil {
		return nil, errors.New("neither sparse nor dense registers")
	}
	for _, s := range *j.S {
		if s[0] < 0 || s[0] >= len(h.Registers) {
			return nil, errors.New("register index out of range")
		}
		h.Registers[s[0]] = byte(s[1])
	}
	return h, nil
}

// AppendJSON appends the TS toJSON form to b: {"p":11,"s":[[i,r],...]} or {"p":11,"d":"<base64>"} (see
// DDSketchJSON.AppendJSON).
func (j HyperLogLogJSON) AppendJSON(b []byte) []byte {
	b = append(b, `{"p":`...)
	b = strconv.AppendInt(b, int64(j.P), 10)
	if j.S != nil {
		b = append(b, `,"s":[`...)
		for i, p := range *j.S {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(p[0]), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(p[1]), 10)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	if j.D != "" {
		b = append(b, `,"d":"`...)
		b = append(b, j.D...)
		b = append(b, '"')
	}
	return append(b, '}')
}
