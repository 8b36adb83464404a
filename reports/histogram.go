package reports

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

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
	if err := checkGeometry(hist.Encoded); err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
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

// maxCountsLen bounds the counts array a decoded histogram may allocate
// (16 MiB). The encoding is a few bytes for any geometry, but decoding
// allocates the geometry's whole counts array: 60 bytes claiming 1 to 2^62
// at five significant digits would cost 47 MiB, so a crafted record could
// exhaust memory. Three digits over any range needs under 70,000 counts;
// five digits fit up to a range of about 2^33 (2.4 hours in µs).
const maxCountsLen = 1 << 21

// checkGeometry reads the header of a V2 compressed encoding (base64 of
// cookie, length, then zlib of cookie, payload length, normalizing offset,
// significant digits, lowest and highest trackable values, conversion
// ratio) and refuses a geometry whose counts array exceeds maxCountsLen.
// It leaves every other malformation to the decoder.
func checkGeometry(encoded string) error {
	// Only the first bytes are needed: 8 of envelope and the start of the
	// zlib stream; 4/3 for base64, rounded to whole quanta.
	head := encoded
	if len(head) > 512 {
		head = head[:512]
	}
	raw, err := base64.StdEncoding.DecodeString(head)
	if err != nil || len(raw) < 8 {
		return nil
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return nil
	}
	defer z.Close()
	var hdr struct {
		Cookie, PayloadLen, Offset, Digits int32
		Lowest, Highest                    int64
	}
	if err := binary.Read(io.LimitReader(z, 32), binary.BigEndian, &hdr); err != nil {
		return nil
	}
	if n := countsLen(hdr.Lowest, hdr.Highest, hdr.Digits); n > maxCountsLen {
		return fmt.Errorf("geometry %d..%d at %d significant digits needs %d counts, limit %d", hdr.Lowest, hdr.Highest, hdr.Digits, n, maxCountsLen)
	}
	return nil
}

// countsLen is the length of the counts array hdrhistogram-go allocates
// when it decodes a histogram of this geometry (its wireGeometry and
// newExactGeometry); 0 for a geometry the decoder refuses.
func countsLen(lowest, highest int64, digits int32) int64 {
	if digits < 0 || digits > 5 {
		return 0
	}
	lowest = max(lowest, 1)
	subBucketCountMagnitude := int64(math.Ceil(math.Log2(2 * math.Pow10(int(digits)))))
	halfMagnitude := max(subBucketCountMagnitude, 1) - 1
	unitMagnitude := int64(math.Floor(math.Log2(float64(lowest))))
	if unitMagnitude+halfMagnitude > 61 {
		return 0
	}
	subBucketCount := int64(1) << (halfMagnitude + 1)
	smallestUntrackable := subBucketCount << unitMagnitude
	buckets := int64(1)
	for smallestUntrackable <= highest {
		if smallestUntrackable > math.MaxInt64/2 {
			buckets++
			break
		}
		smallestUntrackable <<= 1
		buckets++
	}
	return (buckets + 1) * (subBucketCount / 2)
}

// histogramSum is the one histogram merge of ciamcheck: the exact union of
// recorded histograms, for thresholds over several steps or scenarios and for
// merging records. Exact means every value keeps its bucket, so the
// histograms must share one geometry (lowest and highest trackable value,
// significant figures); one of another geometry is refused rather than
// widened, since re-bucketing into a wider or finer histogram moves values
// and the merged percentiles would no longer be those of the single run. One
// ciamcheck version records one geometry, and Merge refuses records of
// different versions, so a refusal here means a record not written by us. An
// empty histogram adds nothing: the record stores it without an encoding,
// so it has no geometry of its own.
type histogramSum struct {
	h *hdrhistogram.Histogram
}

// add merges hist into the sum.
func (s *histogramSum) add(hist Histogram) error {
	src, err := DecodeHistogram(hist)
	if err != nil {
		return err
	}
	return s.addDecoded(src)
}

func (s *histogramSum) addDecoded(src *hdrhistogram.Histogram) error {
	if src.TotalCount() == 0 {
		return nil
	}
	if s.h == nil {
		s.h = hdrhistogram.New(src.LowestTrackableValue(), src.HighestTrackableValue(), int(src.SignificantFigures()))
	}
	if g, h := geometry(src), geometry(s.h); g != h {
		return fmt.Errorf("histogram geometry %s differs from %s: an exact merge needs one geometry", g, h)
	}
	if dropped := s.h.Merge(src); dropped != 0 {
		return fmt.Errorf("merging histograms dropped %d values", dropped)
	}
	return nil
}

// encoded is the record form of the sum; an empty sum stays empty, as the
// load generator writes it.
func (s *histogramSum) encoded() (Histogram, error) {
	if s.h == nil || s.h.TotalCount() == 0 {
		return Histogram{}, nil
	}
	return EncodeHistogram(s.h)
}

func geometry(h *hdrhistogram.Histogram) string {
	return fmt.Sprintf("%d..%d at %d significant figures", h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures())
}
