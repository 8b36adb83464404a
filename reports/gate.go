package reports

import (
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/gonum/stat/distuv"
)

// The regression gate judges a change with its uncertainty, so that two
// runs of the same system differ by noise without tripping it.
//
// A percentile: the n values of a run are a sample, and its q-quantile is
// known only up to an interval. Distribution-free, the number B of values
// at or below the true quantile Q is Binomial(n, q), so the order
// statistics X(lo) and X(hi) whose ranks bound B at a level bracket Q
// (quantileRanks). On a log scale (latencies are skewed) that interval
// gives the standard error of the run's log-percentile; the gate then asks
// whether log(new/old) exceeds log(1+tolerance) by more than the
// confidence allows for the two errors together (a one-sided z-test on the
// difference). Comparing the two intervals for overlap instead would keep
// false regressions far below the level and miss real ones: at 1,800
// values a 30% shift slipped through 3 times in 10. A run with too few
// values to bracket the percentile (a p99 of 30) leaves it not judged.
//
// An error rate: the lower confidence bound of the increase (Newcombe's
// hybrid score interval for a difference of two proportions, built from
// Wilson score bounds of each rate) must exceed the tolerance. It keeps
// its level with few failures or none, where the plain normal
// approximation claims certainty from a rate of zero.
//
// TestGateCalibration holds the promise on synthetic runs; `make
// gate-calibration` measures it on real runs against the emulator.

// spreadAlpha is the one-sided level of the rank interval from which a
// run's standard error is read: a 95% interval, wide enough to reach past
// the quantization of the histogram, narrow enough for a p99 of a few
// hundred values.
const spreadAlpha = 0.025

// quantileRanks returns the ranks (1-based) of the order statistics that
// bound the q-quantile (0 < q < 1) of n values at one-sided level alpha:
// X(lo) <= Q and X(hi) >= Q each with probability at least 1-alpha. ok is
// false for a side no rank can bound (too few values): lo 0 or hi n+1.
func quantileRanks(n int64, q, alpha float64) (lo, hi int64) {
	if n <= 0 {
		return 0, 1
	}
	b := distuv.Binomial{N: float64(n), P: q}
	// lo: the largest k with P(B <= k-1) <= alpha. CDF is nondecreasing, so
	// search for the first k where it fails.
	lo = searchRank(n, func(k int64) bool { return b.CDF(float64(k-1)) > alpha }) - 1
	// hi: the smallest k with P(B <= k-1) >= 1-alpha.
	hi = searchRank(n, func(k int64) bool { return b.CDF(float64(k-1)) >= 1-alpha })
	return lo, hi
}

// searchRank returns the smallest k in [1, n] with pred(k) true, or n+1
// when there is none; pred must be monotone.
func searchRank(n int64, pred func(int64) bool) int64 {
	lo, hi := int64(1), n+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if pred(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// valueAtRank is the k-th smallest value of h (1 <= k <= total).
func valueAtRank(h *hdrhistogram.Histogram, k int64) int64 {
	n := h.TotalCount()
	if n == 0 || k < 1 {
		return 0
	}
	if k >= n {
		return h.Max()
	}
	// ValueAtQuantile looks for the first value whose cumulative count
	// reaches round(q/100*n); aim at the middle of rank k so rounding lands
	// on k.
	return h.ValueAtQuantile(100 * (float64(k) - 0.25) / float64(n))
}

// logPercentile is a run's q-quantile on a log scale and its standard
// error; ok is false when the run has too few values to bracket it.
func logPercentile(h *hdrhistogram.Histogram, q float64) (mean, stderr float64, ok bool) {
	n := h.TotalCount()
	lo, hi := quantileRanks(n, q, spreadAlpha)
	if lo < 1 || hi > n {
		return 0, 0, false
	}
	log := func(v int64) float64 { return math.Log(float64(max(v, 1))) }
	z := distuv.UnitNormal.Quantile(1 - spreadAlpha)
	return log(h.ValueAtQuantile(100 * q)), (log(valueAtRank(h, hi)) - log(valueAtRank(h, lo))) / (2 * z), true
}

// increaseBeyond is the lower confidence bound, at one-sided level alpha,
// of the relative increase of the q-quantile from old to new (0.3 =
// +30%); ok is false when either run cannot bracket it.
func increaseBeyond(oh, nh *hdrhistogram.Histogram, q, alpha float64) (low float64, ok bool) {
	om, ose, ok1 := logPercentile(oh, q)
	nm, nse, ok2 := logPercentile(nh, q)
	if !ok1 || !ok2 {
		return 0, false
	}
	z := distuv.UnitNormal.Quantile(1 - alpha)
	return math.Expm1(nm - om - z*math.Hypot(ose, nse)), true
}

// increaseLowerBound is the lower bound, at one-sided level alpha, of the
// increase from k1 failures in n1 results to k2 in n2 (Newcombe 1998,
// method 10).
func increaseLowerBound(k1, n1, k2, n2 int64, alpha float64) float64 {
	if n1 <= 0 || n2 <= 0 {
		return math.Inf(-1)
	}
	// Each Wilson bound at the two-sided level whose one side is alpha.
	_, u1 := wilson(k1, n1, alpha)
	l2, _ := wilson(k2, n2, alpha)
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	return (p2 - p1) - math.Sqrt((p2-l2)*(p2-l2)+(u1-p1)*(u1-p1))
}

// wilson returns the Wilson score interval of k successes in n trials at
// one-sided level alpha per side.
func wilson(k, n int64, alpha float64) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	z := distuv.UnitNormal.Quantile(1 - alpha)
	p := float64(k) / float64(n)
	nf := float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return math.Max(0, mid-half), math.Min(1, mid+half)
}
