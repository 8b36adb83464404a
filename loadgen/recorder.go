package loadgen

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// Histogram geometry: 1 µs to 60 s with 3 significant digits. Values are
// recorded in microseconds; longer ones are clamped to the top and counted.
const (
	histLowest  = 1
	histHighest = int64(60 * time.Second / time.Microsecond)
	histSigFigs = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histSigFigs)
}

// seriesKey names one histogram pair: a step of a scenario, or its flow.
type seriesKey struct {
	scenario int
	step     scenarios.StepName
	flow     bool
}

// outcomeKey is one counter cell: step × HTTP status × error × suberror.
type outcomeKey struct {
	status    int
	err       string
	suberror  string
	redirect  bool
	transport bool
	class     nativeauth.TransportClass // why there was no answer, when transport
	expected  bool                      // a documented turn of the flow, not a failure
}

// series is the state of one seriesKey within one lane phase. Lanes use
// the sparse PackedHistogram: a dense 1 µs–60 s histogram is 136 KiB, and
// lanes × steps × scenarios × 2 phases of those would cost hundreds of MiB on
// a many-core machine, while an interval's latencies fill a few hundred
// buckets. The reader merges lanes into dense histograms.
type series struct {
	service  *hdrhistogram.PackedHistogram
	response *hdrhistogram.PackedHistogram
	outcomes map[outcomeKey]int64
	// examples holds the first message of each transport outcome.
	examples map[outcomeKey]string
}

func newPacked() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(histLowest, histHighest, histSigFigs)
}

func newSeries() *series {
	return &series{service: newPacked(), response: newPacked(), outcomes: map[outcomeKey]int64{}, examples: map[outcomeKey]string{}}
}

func (s *series) reset() {
	s.service.Reset()
	s.response.Reset()
	clear(s.outcomes)
	clear(s.examples)
}

// laneSet is what a lane records into during one phase.
type laneSet struct {
	series  map[seriesKey]*series
	reg     *registry
	clamped int64 // values above histHighest, recorded as histHighest
	invalid int64 // values the histogram refused (negative after clock skew)
}

func newLaneSet(reg *registry) *laneSet {
	return &laneSet{series: map[seriesKey]*series{}, reg: reg}
}

func (ls *laneSet) get(k seriesKey) *series {
	s := ls.series[k]
	if s == nil {
		// Rare path: a lane meets a step for the first time in this phase.
		s = newSeries()
		ls.series[k] = s
		ls.reg.note(k)
	}
	return s
}

// registry remembers the order in which series first appeared, so steps
// are reported in the order flows run them. Only first sightings lock it.
type registry struct {
	mu  sync.Mutex
	seq map[seriesKey]int
}

func (g *registry) note(k seriesKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.seq[k]; !ok {
		g.seq[k] = len(g.seq)
	}
}

func (g *registry) snapshot() map[seriesKey]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.seq)
}

func (ls *laneSet) record(h *hdrhistogram.PackedHistogram, d time.Duration) {
	v := int64(d / time.Microsecond)
	if v < 0 {
		ls.invalid++
		v = 0
	}
	if v > histHighest {
		ls.clamped++
		v = histHighest
	}
	if h.RecordValue(v) != nil {
		ls.invalid++
	}
}

// lane is one writer's recording state. Writers claim a lane with a
// non-blocking CAS (trying the next lane if it is taken, never waiting), so
// a lane has one writer at a time and its histograms need no lock. The
// interval reader never blocks writers: it swaps the active and inactive
// sets and waits on the phaser for writers still in the old set, as
// HdrHistogram's Recorder does.
type lane struct {
	busy   atomic.Bool
	phaser phaser
	active atomic.Pointer[laneSet]
	spare  *laneSet // owned by the reader
	_      [64]byte // keep lanes on separate cache lines
}

// recorder shards step results over lanes. It has no lock on the recording
// path: two atomic adds (phaser) and a CAS per recorded result.
type recorder struct {
	lanes []*lane
	reg   *registry
	next  atomic.Uint32
	mu    sync.Mutex // serialises readers (interval swaps)
}

func newRecorder(n int) *recorder {
	if n <= 0 {
		// Only GOMAXPROCS writers run at once; the spare lanes absorb a
		// writer preempted while holding one.
		n = 2*runtime.GOMAXPROCS(0) + 1
	}
	r := &recorder{lanes: make([]*lane, n), reg: &registry{seq: map[seriesKey]int{}}}
	for i := range r.lanes {
		l := &lane{spare: newLaneSet(r.reg)}
		l.phaser.init()
		l.active.Store(newLaneSet(r.reg))
		r.lanes[i] = l
	}
	return r
}

// claim returns a free lane, starting from a rotating hint so that writers
// spread out. It never blocks; it yields if every lane is momentarily taken.
func (r *recorder) claim() *lane {
	n := uint32(len(r.lanes))
	start := r.next.Add(1)
	for spin := 0; ; spin++ {
		for i := uint32(0); i < n; i++ {
			l := r.lanes[(start+i)%n]
			if !l.busy.Load() && l.busy.CompareAndSwap(false, true) {
				return l
			}
		}
		runtime.Gosched()
	}
}

// observe records one step result.
func (r *recorder) observe(sc int, res *scenarios.StepResult) {
	l := r.claim()
	v := l.phaser.enter()
	set := l.active.Load()
	s := set.get(seriesKey{scenario: sc, step: res.Step})
	if !res.Sent.IsZero() {
		set.record(s.service, res.Done.Sub(res.Sent))
	} else {
		set.record(s.service, res.Done.Sub(res.IntendedStart))
	}
	set.record(s.response, res.Done.Sub(res.IntendedStart))
	k := outcomeOf(res)
	s.outcomes[k]++
	if k.transport {
		if _, ok := s.examples[k]; !ok {
			s.examples[k] = transportExample(res.Err)
		}
	}
	l.phaser.exit(v)
	l.busy.Store(false)
}

// observeFlow records one whole iteration.
func (r *recorder) observeFlow(sc int, intended, started, done time.Time, outcome outcomeKey) {
	l := r.claim()
	v := l.phaser.enter()
	set := l.active.Load()
	s := set.get(seriesKey{scenario: sc, flow: true})
	set.record(s.service, done.Sub(started))
	set.record(s.response, done.Sub(intended))
	s.outcomes[outcome]++
	l.phaser.exit(v)
	l.busy.Store(false)
}

// swap hands every lane's data since the previous swap to fn, then clears
// it for reuse. fn runs with no writer touching the sets it is given.
func (r *recorder) swap(fn func(*laneSet)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lanes {
		old := l.active.Swap(l.spare)
		l.phaser.flip()
		fn(old)
		for _, s := range old.series {
			s.reset()
		}
		old.clamped, old.invalid = 0, 0
		l.spare = old
	}
}

// Synthetic error labels for outcomes the API did not name; they carry a
// "ciamcheck:" prefix so they can never be mistaken for the API's vocabulary.
const (
	LabelUnexpected  = "ciamcheck:unexpected"  // step failed without an API error or transport error
	LabelFlowFailed  = "ciamcheck:failed"      // flow returned an error
	LabelInterrupted = "ciamcheck:interrupted" // flow cancelled after the graceful stop
)

func outcomeOf(res *scenarios.StepResult) outcomeKey {
	k := outcomeKey{status: res.HTTPStatus, err: string(res.Error), suberror: string(res.Suberror), redirect: res.Redirect, expected: res.Expected && res.Err == nil}
	// A redirect is its own outcome (the flow sets Err for it too): it is
	// not also labelled unexpected.
	if res.Err != nil && res.HTTPStatus == 0 && res.Error == "" && !res.Redirect {
		k.transport = true
		k.class = nativeauth.ClassifyTransport(res.Err)
	} else if res.Err != nil && res.Error == "" && res.HTTPStatus < 400 && !res.Redirect {
		k.err = LabelUnexpected
	}
	return k
}

// phaser is HdrHistogram's WriterReaderPhaser: writers bracket their
// critical section with enter/exit (one atomic add each, wait-free); the
// reader's flip waits until every writer that entered before the flip has
// exited, so after swapping a pointer the reader owns the old target.
type phaser struct {
	startEpoch   atomic.Int64
	evenEndEpoch atomic.Int64
	oddEndEpoch  atomic.Int64
}

func (p *phaser) init() { p.oddEndEpoch.Store(math.MinInt64) }

func (p *phaser) enter() int64 { return p.startEpoch.Add(1) - 1 }

func (p *phaser) exit(v int64) {
	if v < 0 {
		p.oddEndEpoch.Add(1)
	} else {
		p.evenEndEpoch.Add(1)
	}
}

// flip must be called by one reader at a time (recorder.mu).
func (p *phaser) flip() {
	nextIsEven := p.startEpoch.Load() < 0
	var initial int64
	if nextIsEven {
		initial = 0
		p.evenEndEpoch.Store(initial)
	} else {
		initial = math.MinInt64
		p.oddEndEpoch.Store(initial)
	}
	startAtFlip := p.startEpoch.Swap(initial)
	for {
		var end int64
		if nextIsEven {
			end = p.oddEndEpoch.Load()
		} else {
			end = p.evenEndEpoch.Load()
		}
		if end == startAtFlip {
			return
		}
		runtime.Gosched()
	}
}

// maxExample bounds a transport failure's example message in the record.
const maxExample = 200

// transportExample is err's message as a record may keep it: the request
// URL without user info, query or fragment (a transport error never
// carries the form, where the secrets are), cut to maxExample runes.
func transportExample(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		clean := ue.URL
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
			clean = u.String()
		} else {
			clean = "(URL withheld)"
		}
		msg = strings.Replace(msg, ue.Error(), fmt.Sprintf("%s %q: %v", ue.Op, clean, ue.Err), 1)
	}
	if r := []rune(msg); len(r) > maxExample {
		msg = string(r[:maxExample-1]) + "…"
	}
	return msg
}
