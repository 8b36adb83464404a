package reports

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxSegments bounds the number of execution segments of one plan.
const MaxSegments = 10_000

// Segment is one worker's share of a plan split between Count workers:
// Index is 1-based, so "2/4" is the second of four. Work items (arrivals,
// users, iterations) numbered from 0 belong to the segment whose Index-1
// is their number modulo Count, so the segments of one plan never share an
// item and together hold every one. The zero Segment is the whole plan.
type Segment struct {
	Index, Count int
}

// ParseSegment reads "i/n" with 1 <= i <= n <= MaxSegments; "" is the
// whole plan.
func ParseSegment(s string) (Segment, error) {
	if s == "" {
		return Segment{}, nil
	}
	i, n, ok := strings.Cut(s, "/")
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil {
		return Segment{}, fmt.Errorf("segment %q: want i/n, e.g. 2/4", s)
	}
	seg := Segment{Index: idx, Count: cnt}
	if err := seg.Check(); err != nil {
		return Segment{}, err
	}
	return seg, nil
}

// Check reports whether s is the whole plan or a valid i/n.
func (s Segment) Check() error {
	if s == (Segment{}) {
		return nil
	}
	if s.Count < 1 || s.Count > MaxSegments || s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("segment %d/%d: want 1 <= i <= n <= %d", s.Index, s.Count, MaxSegments)
	}
	return nil
}

// Whole reports whether s is the whole plan (no split, or 1/1).
func (s Segment) Whole() bool { return s.Count <= 1 }

// String is "i/n", or "" for the whole plan.
func (s Segment) String() string {
	if s == (Segment{}) {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Owns reports whether item k (0-based) of a split list is this segment's.
func (s Segment) Owns(k int64) bool {
	if s.Whole() {
		return true
	}
	return k%int64(s.Count) == int64(s.Index-1)
}

// Share is how many of total items (numbered 0..total-1) the segment owns:
// total/n, plus one for the first total%n segments, so the shares of all
// segments add up to total with nothing lost to rounding.
func (s Segment) Share(total int64) int64 {
	if s.Whole() || total <= 0 {
		return max(total, 0)
	}
	n := int64(s.Count)
	q := total / n
	if int64(s.Index-1) < total%n {
		q++
	}
	return q
}

// MaxStartSkew is how far apart the execution starts of merged segment
// records may be before merge warns that their schedules did not line up.
const MaxStartSkew = time.Second

// MergeOptions are the choices of MergeWith.
type MergeOptions struct {
	// AllowPartial merges segment records that do not cover the plan
	// (segments missing); the merged record states which are missing.
	AllowPartial bool
}

// checkSegments refuses segment records that cannot be one split plan: a
// mix of whole and split records, records of different segment counts, and
// (unless opts.AllowPartial) missing segments. It returns the merged
// record's Partial statement ("" when complete).
func checkSegments(parts []Part, opts MergeOptions) (partial string, err error) {
	var count int
	have := map[int]bool{}
	var whole []string
	for i, p := range parts {
		seg, err := ParseSegment(p.Record.Load.Segment)
		if err != nil {
			return "", fmt.Errorf("%s: %w", partName(i, p), err)
		}
		if seg == (Segment{}) {
			whole = append(whole, partName(i, p))
			continue
		}
		if count == 0 {
			count = seg.Count
		} else if seg.Count != count {
			return "", fmt.Errorf("%s ran segment %s of a plan split %d ways, earlier inputs %d ways: the shares overlap", partName(i, p), seg, seg.Count, count)
		}
		have[seg.Index] = true
	}
	if count == 0 {
		return "", nil
	}
	if len(whole) > 0 {
		return "", fmt.Errorf("%s ran the whole plan, the other inputs segments of it: merged, the whole plan's share would count twice", strings.Join(whole, ", "))
	}
	var missing []string
	for i := 1; i <= count; i++ {
		if !have[i] {
			missing = append(missing, Segment{Index: i, Count: count}.String())
		}
	}
	if len(missing) == 0 {
		return "", nil
	}
	statement := fmt.Sprintf("segments %s missing: the record holds %d of %d shares of the plan", strings.Join(missing, ", "), len(have), count)
	if !opts.AllowPartial {
		return "", errors.New(statement + " (merge them all, or --allow-partial)")
	}
	return statement, nil
}

// startSkewWarning says when the merged records began executing further
// apart than MaxStartSkew; "" when they lined up or did not record it.
func startSkewWarning(parts []Part) string {
	var starts []time.Time
	for _, p := range parts {
		if t := p.Record.Load.BeganAt; !t.IsZero() {
			starts = append(starts, t)
		}
	}
	if len(starts) < 2 {
		return ""
	}
	first, last := slices.MinFunc(starts, time.Time.Compare), slices.MaxFunc(starts, time.Time.Compare)
	if skew := last.Sub(first); skew > MaxStartSkew {
		return fmt.Sprintf("start skew: want <= %s, got %s between the first and last input's start (%s, %s): their schedules did not line up, so the merged rates are lower and longer than the plan's",
			MaxStartSkew, skew.Round(time.Millisecond), first.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))
	}
	return ""
}
