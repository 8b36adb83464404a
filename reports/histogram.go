package reports

import (
	"errors"
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// maxEncodedHistogram bounds one encoded histogram. A 1 µs..1 h histogram at
// three significant digits encodes to a few KiB; anything this large is not
// a latency histogram we wrote.
const maxEncodedHistogram = 4 << 20

// EncodeHistogram returns the record form of h: the compressed V2 encoding
// and the figures precomputed from it. h holds microseconds.
func EncodeHistogram(h *hdrhistogram.Histogram) (Histogram, error) {
	if h == nil {
		return Histogram{}, errors.New("encode histogram: nil histogram")
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return Histogram{}, fmt.Errorf("encode histogram: %w", err)
	}
	out := Histogram{Encoded: string(enc)}
	fillFigures(&out, h)
	return out, nil
}

// fillFigures sets the precomputed figures of out from h.
func fillFigures(out *Histogram, h *hdrhistogram.Histogram) {
	out.Count = h.TotalCount()
	if out.Count == 0 {
		out.P50, out.P90, out.P99, out.P999, out.Max, out.Mean = 0, 0, 0, 0, 0, 0
		return
	}
	out.P50 = h.ValueAtQuantile(50)
	out.P90 = h.ValueAtQuantile(90)
	out.P99 = h.ValueAtQuantile(99)
	out.P999 = h.ValueAtQuantile(99.9)
	out.Max = h.Max()
	out.Mean = h.Mean()
}

// DecodeHistogram decodes the encoded form of hist. An empty encoding is an
// empty histogram only when hist says it counted nothing; a histogram whose
// total differs from hist.Count is refused, since every figure derived from
// it would then be wrong.
func DecodeHistogram(hist Histogram) (*hdrhistogram.Histogram, error) {
	if hist.Encoded == "" {
		if hist.Count != 0 {
			return nil, fmt.Errorf("decode histogram: no encoding for %d values", hist.Count)
		}
		return newEmptyHistogram(), nil
	}
	if len(hist.Encoded) > maxEncodedHistogram {
		return nil, fmt.Errorf("decode histogram: encoding is %d bytes, limit %d", len(hist.Encoded), maxEncodedHistogram)
	}
	h, err := decodeNoPanic([]byte(hist.Encoded))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	if h.TotalCount() != hist.Count {
		return nil, fmt.Errorf("decode histogram: encoding holds %d values, record says %d", h.TotalCount(), hist.Count)
	}
	return h, nil
}

// decodeNoPanic guards the decoder of untrusted bytes: a library panic on a
// crafted histogram must become an error, never a crashed report.
func decodeNoPanic(b []byte) (h *hdrhistogram.Histogram, err error) {
	defer func() {
		if p := recover(); p != nil {
			h, err = nil, fmt.Errorf("corrupt histogram: %v", p)
		}
	}()
	return hdrhistogram.Decode(b)
}

// newEmptyHistogram is the geometry used when a step recorded nothing:
// 1 µs to 1 h at three significant digits, wide enough for any latency.
func newEmptyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, 3_600_000_000, 3)
}
