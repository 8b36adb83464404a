package reports

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestQuantileRanks(t *testing.T) {
	cases := []struct {
		n      int64
		q      float64
		lo, hi int64
	}{
		// Ten values cannot bound a median at 0.5% a side but by the extremes:
		// P(B <= 0) = 0.001, P(B <= 1) = 0.011.
		{10, 0.5, 1, 10},
		// A p99 of 30 values has no upper bound: P(B <= 29) = 0.26.
		{30, 0.99, 28, 31},
		// ±2.576 standard deviations of Binomial(1000, 0.5) around 500.
		{1000, 0.5, 459, 542},
		{0, 0.5, 0, 1},
	}
	for _, c := range cases {
		lo, hi := quantileRanks(c.n, c.q, 0.005)
		if lo != c.lo || hi != c.hi {
			t.Errorf("quantileRanks(%d, %v) = %d, %d; want %d, %d", c.n, c.q, lo, hi, c.lo, c.hi)
		}
	}
}

func TestIncreaseLowerBound(t *testing.T) {
	// Newcombe 1998, table II, example (a): 56/70 vs 48/80, 95% two-sided
	// interval of the difference (0.0524, 0.3339): its lower end is the
	// one-sided 2.5% bound.
	if got := increaseLowerBound(48, 80, 56, 70, 0.025); math.Abs(got-0.0524) > 0.0005 {
		t.Errorf("lower bound %.4f, want 0.0524", got)
	}
	// No failures before, one in twenty now: nothing is certain.
	if got := increaseLowerBound(0, 20, 1, 20, 0.01); got > 0 {
		t.Errorf("0/20 → 1/20: lower bound %.4f, want ≤ 0", got)
	}
}

// latencySample draws n response times (µs) from a log-normal latency
// distribution with the given median, as a loaded server's are.
func latencySample(rng *rand.Rand, n int, median time.Duration, sigma, scale float64) *hdrhistogram.Histogram {
	h := hdrhistogram.New(1, 3_600_000_000, 3)
	mu := math.Log(float64(median.Microseconds()))
	for range n {
		v := scale * math.Exp(mu+sigma*rng.NormFloat64())
		_ = h.RecordValue(int64(math.Max(1, v)))
	}
	return h
}

// regressed reports which of a step's percentiles (p50, p99) the gate calls
// regressed.
func regressed(oh, nh *hdrhistogram.Histogram, tol Tolerance) (p50, p99 bool) {
	r := func(q float64) bool {
		why, judged := latencyRegression("p", q, oh, nh, tol)
		return judged && why != ""
	}
	return r(0.5), r(0.99)
}

// The gate's promise, on synthetic runs at the built-in plans' sample sizes
// per step (smoke: 2/s for 15 s; baseline: 10/s and 30/s for 3 minutes),
// 1,000 pairs each: identical systems are called regressed in at most 1%
// of pairs at the default tolerance; with every tolerance at zero the
// confidence alone holds each percentile to its 1% (Monte Carlo noise on
// 1,000 pairs is ±0.3 points, hence the 1.5% bound); a +30% latency shift
// is caught in at least 95% of pairs at baseline size.
func TestGateCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 pairs per size")
	}
	const pairs = 1000
	zero := Tolerance{Confidence: DefaultTolerance.Confidence, MinLatency: time.Nanosecond}
	for _, size := range []struct {
		name string
		n    int
	}{{"smoke", 30}, {"baseline-10/s", 1800}, {"baseline-30/s", 5400}} {
		rng := rand.New(rand.NewPCG(1, uint64(size.n)))
		var falseStep, falseP50, falseP99, caught int
		for range pairs {
			old := latencySample(rng, size.n, 5*time.Millisecond, 0.5, 1)
			same := latencySample(rng, size.n, 5*time.Millisecond, 0.5, 1)
			slower := latencySample(rng, size.n, 5*time.Millisecond, 0.5, 1.3)
			if a, b := regressed(old, same, DefaultTolerance); a || b {
				falseStep++
			}
			a, b := regressed(old, same, zero)
			falseP50 += b2i(a)
			falseP99 += b2i(b)
			if a, b := regressed(old, slower, DefaultTolerance); a || b {
				caught++
			}
		}
		t.Logf("%s (%d values): false regressions %d/%d at the default tolerance; at zero tolerance p50 %d, p99 %d; +30%% caught %d/%d",
			size.name, size.n, falseStep, pairs, falseP50, falseP99, caught, pairs)
		if falseStep > pairs/100 {
			t.Errorf("%s: %d false regressions of %d at the default tolerance, want at most 1%%", size.name, falseStep, pairs)
		}
		if falseP50 > pairs*15/1000 || falseP99 > pairs*15/1000 {
			t.Errorf("%s: at zero tolerance p50 %d and p99 %d false regressions of %d, want at most 1.5%%", size.name, falseP50, falseP99, pairs)
		}
		if size.n >= 1800 && caught < pairs*95/100 {
			t.Errorf("%s: a +30%% shift caught in %d of %d pairs, want at least 95%%", size.name, caught, pairs)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Error rates: a steady 1% failure rate is not a regression between runs
// (at zero tolerance the confidence alone holds it to 1%, ±0.3 points of
// Monte Carlo noise); 1% → 5% at baseline size is one, with the default
// tolerance of one point.
func TestGateCalibrationErrorRate(t *testing.T) {
	const pairs = 1000
	rng := rand.New(rand.NewPCG(7, 7))
	binomial := func(n int64, p float64) int64 {
		var k int64
		for range n {
			if rng.Float64() < p {
				k++
			}
		}
		return k
	}
	alpha := 1 - DefaultTolerance.Confidence
	for _, n := range []int64{30, 1800} {
		var falseZero, falseDefault, caught int
		for range pairs {
			before, same, worse := binomial(n, 0.01), binomial(n, 0.01), binomial(n, 0.05)
			low := increaseLowerBound(before, n, same, n, alpha)
			falseZero += b2i(same > before && low > 0)
			falseDefault += b2i(low > DefaultTolerance.ErrorRate)
			caught += b2i(increaseLowerBound(before, n, worse, n, alpha) > DefaultTolerance.ErrorRate)
		}
		t.Logf("%d results: false regressions %d/%d at the default tolerance, %d at zero; 1%% → 5%% caught %d/%d", n, falseDefault, pairs, falseZero, caught, pairs)
		if falseDefault > pairs/100 || falseZero > pairs*15/1000 {
			t.Errorf("%d results: %d and %d false regressions of %d", n, falseDefault, falseZero, pairs)
		}
		if n >= 1800 && caught < pairs*95/100 {
			t.Errorf("%d results: 1%% → 5%% caught %d of %d, want at least 95%%", n, caught, pairs)
		}
	}
}
