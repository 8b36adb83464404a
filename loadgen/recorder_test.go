package loadgen

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// TestRecorderSwapLosesNothing records from many goroutines while the
// reader swaps continuously; every value must land in exactly one interval.
func TestRecorderSwapLosesNothing(t *testing.T) {
	rec := newRecorder(3)
	const writers, per = 8, 5000
	base := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				d := time.Duration(i%1000+1) * time.Microsecond
				res := scenarios.StepResult{Step: "s", IntendedStart: base, Sent: base, Done: base.Add(d), HTTPStatus: 200 + w%2}
				rec.observe(0, &res)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var total, outcomes int64
	drain := func(ls *laneSet) {
		for _, s := range ls.series {
			total += s.response.TotalCount()
			for _, n := range s.outcomes {
				outcomes += n
			}
		}
	}
	for loop := true; loop; {
		select {
		case <-done:
			loop = false
		default:
			rec.swap(drain)
		}
	}
	rec.swap(drain)
	if total != writers*per || outcomes != writers*per {
		t.Errorf("recorded %d values and %d outcomes, want %d", total, outcomes, writers*per)
	}
}

func TestClampAndOutcome(t *testing.T) {
	ls := newLaneSet(&registry{seq: map[seriesKey]int{}})
	s := ls.get(seriesKey{step: "x"})
	ls.record(s.response, 2*time.Minute)
	ls.record(s.response, -time.Second)
	if ls.clamped != 1 || ls.invalid != 1 || s.response.TotalCount() != 2 {
		t.Errorf("clamped %d invalid %d count %d", ls.clamped, ls.invalid, s.response.TotalCount())
	}
	cases := []struct {
		res  scenarios.StepResult
		want outcomeKey
	}{
		{scenarios.StepResult{HTTPStatus: 200}, outcomeKey{status: 200}},
		{scenarios.StepResult{HTTPStatus: 400, Error: "invalid_grant", Suberror: "password_too_weak", Err: errTest}, outcomeKey{status: 400, err: "invalid_grant", suberror: "password_too_weak"}},
		{scenarios.StepResult{Err: errTest}, outcomeKey{transport: true, class: nativeauth.TransportOther}},
		{scenarios.StepResult{Err: refusedErr}, outcomeKey{transport: true, class: nativeauth.TransportRefused}},
		{scenarios.StepResult{HTTPStatus: 200, Err: errTest}, outcomeKey{status: 200, err: LabelUnexpected}},
		{scenarios.StepResult{HTTPStatus: 200, Redirect: true}, outcomeKey{status: 200, redirect: true}},
		// As flows report it: the redirect is also the step's error.
		{scenarios.StepResult{HTTPStatus: 200, Redirect: true, Err: scenarios.ErrRedirect}, outcomeKey{status: 200, redirect: true}},
		{scenarios.StepResult{HTTPStatus: 400, Error: "credential_required", Expected: true}, outcomeKey{status: 400, err: "credential_required", expected: true}},
		// Expected with an error is contradictory: the failure wins.
		{scenarios.StepResult{HTTPStatus: 400, Error: "credential_required", Expected: true, Err: errTest}, outcomeKey{status: 400, err: "credential_required"}},
	}
	for _, c := range cases {
		if got := outcomeOf(&c.res); got != c.want {
			t.Errorf("outcomeOf(%+v) = %+v, want %+v", c.res, got, c.want)
		}
	}
}

var errTest = errorString("boom")

// refusedErr is a refused connection as net/http reports it, to a URL with
// credentials, a query and a fragment.
var refusedErr = fmt.Errorf("nativeauth: POST /oauth2/v2.0/token: %w", &url.Error{Op: "Post", URL: "http://user:pa55@127.0.0.1:1/t/oauth2/v2.0/token?sig=s3cret#frag",
	Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}})

// A transport failure's example keeps the message but not the URL's user
// info, query or fragment, and is cut to maxExample runes.
func TestTransportExample(t *testing.T) {
	long := &url.Error{Op: "Get", URL: "http://h/" + strings.Repeat("p", 300), Err: errTest}
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errTest, "boom"},
		{refusedErr, `nativeauth: POST /oauth2/v2.0/token: Post "http://127.0.0.1:1/t/oauth2/v2.0/token": dial tcp: connect: connection refused`},
		{long, `Get "http://h/` + strings.Repeat("p", maxExample-len(`Get "http://h/`)-1) + "…"},
	}
	for _, c := range cases {
		if got := transportExample(c.err); got != c.want {
			t.Errorf("transportExample(%v) =\n%q, want\n%q", c.err, got, c.want)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestIntegrityFailsTheRun: lost histogram values and flows that never
// returned fail the run; clamped values only warn.
func TestIntegrityFailsTheRun(t *testing.T) {
	c := &collector{r: &run{scs: []*scenarioRun{{}}}}
	if got := c.integrity(); len(got) != 0 {
		t.Fatalf("clean run: %+v", got)
	}
	c.mergeDropped, c.invalid, c.clamped = 2, 1, 4
	c.r.scs[0].stuck.Store(3)
	got := c.integrity()
	if len(got) != 3 {
		t.Fatalf("integrity = %+v, want 3 results", got)
	}
	for _, want := range []struct {
		actual string
		passed bool
	}{{"2 dropped by merge, 1 refused", false}, {"4 clamped", true}, {"3 flows still running", false}} {
		found := false
		for _, r := range got {
			if strings.Contains(r.Actual, want.actual) {
				found = true
				if r.Passed != want.passed {
					t.Errorf("%s: passed %v, want %v", r.Expr, r.Passed, want.passed)
				}
			}
		}
		if !found {
			t.Errorf("no result saying %q in %+v", want.actual, got)
		}
	}
	if reports.JudgeLoad(&reports.Load{Checks: got}).Passed() {
		t.Error("lost values must fail the run")
	}
}
