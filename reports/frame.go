package reports

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// FrameMarker starts every line of a record framed for a log (WriteFramed).
const FrameMarker = "ciamcheck-record"

// frameLine is how many base64 characters a framed line carries: short
// enough that no log pipeline splits it.
const frameLine = 76

// WriteFramed writes the record's bytes (as Write made them) to a log so
// that it can be taken back from the log of a finished pod (kubectl logs):
// a begin line with the record's SHA-256 and length, the bytes in base64
// over lines of their own, and an end line. Every line starts with
// FrameMarker, so lines another writer interleaves (stderr in the same
// container log) and prefixes a log tool adds (kubectl logs --prefix) do
// not break it.
func WriteFramed(w io.Writer, raw []byte) error {
	sum := sha256.Sum256(raw)
	digest := hex.EncodeToString(sum[:])
	var b strings.Builder
	fmt.Fprintf(&b, "%s begin %s %d\n", FrameMarker, digest, len(raw))
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 0 {
		n := min(frameLine, len(enc))
		fmt.Fprintf(&b, "%s %s\n", FrameMarker, enc[:n])
		enc = enc[n:]
	}
	fmt.Fprintf(&b, "%s end %s\n", FrameMarker, digest)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write framed record: %w", err)
	}
	return nil
}

// ErrBadFrame is returned for a framed record that is cut, altered or
// malformed.
var ErrBadFrame = errors.New("bad framed record")

// ReadFramed takes back every record WriteFramed wrote into a log, in
// order, each checked against its length and SHA-256. Lines without the
// marker are skipped; a frame that is cut (no end), altered (digest) or
// malformed is an error, never a record silently lost or half-read.
func ReadFramed(r io.Reader) ([][]byte, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out [][]byte
	var body strings.Builder
	var digest string
	var size int64 = -1
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		i := strings.Index(text, FrameMarker+" ")
		if i < 0 {
			continue
		}
		fields := strings.Fields(text[i+len(FrameMarker):])
		switch {
		case len(fields) == 3 && fields[0] == "begin":
			if size >= 0 {
				return out, fmt.Errorf("%w: line %d: a record begins before the one begun earlier ended (cut log?)", ErrBadFrame, line)
			}
			n, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil || n < 0 || n > MaxRecordSize || len(fields[1]) != 64 {
				return out, fmt.Errorf("%w: line %d: begin line: want \"begin SHA256 LENGTH\"", ErrBadFrame, line)
			}
			digest, size = fields[1], n
			body.Reset()
		case len(fields) == 2 && fields[0] == "end":
			if size < 0 {
				return out, fmt.Errorf("%w: line %d: end without begin", ErrBadFrame, line)
			}
			raw, err := base64.StdEncoding.DecodeString(body.String())
			if err != nil {
				return out, fmt.Errorf("%w: line %d: base64: %v", ErrBadFrame, line, err)
			}
			sum := sha256.Sum256(raw)
			switch got := hex.EncodeToString(sum[:]); {
			case int64(len(raw)) != size:
				return out, fmt.Errorf("%w: line %d: length: want %d, got %d", ErrBadFrame, line, size, len(raw))
			case fields[1] != digest || got != digest:
				return out, fmt.Errorf("%w: line %d: sha256: want %s, got %s", ErrBadFrame, line, digest, got)
			}
			out = append(out, bytes.Clone(raw))
			size = -1
		case len(fields) == 1 && size >= 0:
			if body.Len()+len(fields[0]) > base64.StdEncoding.EncodedLen(int(size)) {
				return out, fmt.Errorf("%w: line %d: more data than the %d bytes announced", ErrBadFrame, line, size)
			}
			body.WriteString(fields[0])
		default:
			return out, fmt.Errorf("%w: line %d: unexpected %q line", ErrBadFrame, line, FrameMarker)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read log: %w", err)
	}
	if size >= 0 {
		return out, fmt.Errorf("%w: the log ends inside a record (cut log?)", ErrBadFrame)
	}
	return out, nil
}
