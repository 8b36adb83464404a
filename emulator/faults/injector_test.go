package faults

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
)

const tokenPath = "/oauth2/v2.0/token"

func ms(n int) backdoor.Duration { return backdoor.Duration(time.Duration(n) * time.Millisecond) }

// fakeSleeper records requested sleeps instead of waiting.
type fakeSleeper struct {
	mu    sync.Mutex
	slept []time.Duration
}

func (f *fakeSleeper) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slept = append(f.slept, d)
	return ctx.Err()
}

func newTestInjector(t *testing.T, set backdoor.Faults, seed int64) (*Injector, *fakeSleeper) {
	t.Helper()
	if err := set.Validate(); err != nil {
		t.Fatalf("test set invalid: %v", err)
	}
	in := NewInjector(set, seed)
	fs := &fakeSleeper{}
	in.sleep = fs.sleep
	in.now = func() time.Time { return time.Date(2025, 3, 4, 10, 15, 0, 0, time.UTC) }
	return in, fs
}

func ok(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func post(path string) *http.Request {
	return httptest.NewRequest(http.MethodPost, "http://emulator"+path, strings.NewReader("grant_type=password"))
}

func tokenSet(sp backdoor.FaultSpec) backdoor.Faults {
	return backdoor.Faults{Endpoints: map[string]backdoor.FaultSpec{tokenPath: sp}}
}

// TestRates sends 10,000 requests through a recorder and checks each
// outcome's share against its rate (±2 points; binomial sd at p=0.1 is 0.3).
func TestRates(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		spec                 backdoor.FaultSpec
		want429, want503, ok float64
	}{
		{"429 only", backdoor.FaultSpec{Rate429: 0.1}, 0.1, 0, 0.9},
		{"503 only", backdoor.FaultSpec{Rate503: 0.25}, 0, 0.25, 0.75},
		{"both", backdoor.FaultSpec{Rate429: 0.1, Rate503: 0.2}, 0.1, 0.2, 0.7},
		{"always 429", backdoor.FaultSpec{Rate429: 1}, 1, 0, 0},
		{"none", backdoor.FaultSpec{Latency: ms(1)}, 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _ := newTestInjector(t, tokenSet(tc.spec), 42)
			const n = 10000
			counts := map[int]int{}
			nexts := 0
			for range n {
				w := httptest.NewRecorder()
				in.Wrap(tokenPath, w, post(tokenPath), func(w http.ResponseWriter, r *http.Request) {
					nexts++
					ok(w, r)
				})
				counts[w.Code]++
			}
			for _, c := range []struct {
				status int
				want   float64
			}{{429, tc.want429}, {503, tc.want503}, {200, tc.ok}} {
				got := float64(counts[c.status]) / n
				if got < c.want-0.02 || got > c.want+0.02 {
					t.Errorf("status %d share = %.4f, want %.2f±0.02", c.status, got, c.want)
				}
			}
			if nexts != counts[200] {
				t.Errorf("next called %d times for %d passed requests", nexts, counts[200])
			}
			st := in.Stats()
			if int(st.Throttled) != counts[429] || int(st.Unavailable) != counts[503] {
				t.Errorf("Stats = %+v, counted 429=%d 503=%d", st, counts[429], counts[503])
			}
		})
	}
}

func TestOtherEndpointsUntouched(t *testing.T) {
	in, fs := newTestInjector(t, tokenSet(backdoor.FaultSpec{Rate429: 1, Latency: ms(100)}), 1)
	w := httptest.NewRecorder()
	in.Wrap("/signup/v1.0/start", w, post("/signup/v1.0/start"), ok)
	if w.Code != http.StatusOK || len(fs.slept) != 0 {
		t.Errorf("unconfigured endpoint got status %d and sleeps %v", w.Code, fs.slept)
	}
}

func TestSeedReproducible(t *testing.T) {
	outcomes := func(seed int64) []int {
		in, _ := newTestInjector(t, tokenSet(backdoor.FaultSpec{Rate429: 0.3, Rate503: 0.3}), seed)
		var codes []int
		for range 200 {
			w := httptest.NewRecorder()
			in.Wrap(tokenPath, w, post(tokenPath), ok)
			codes = append(codes, w.Code)
		}
		return codes
	}
	a, b, c := outcomes(7), outcomes(7), outcomes(8)
	if !slices.Equal(a, b) {
		t.Error("same seed gave different outcomes")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same 200 outcomes")
	}
}

func TestErrorAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   backdoor.FaultSpec
		status int
		code   float64
	}{
		{"429", backdoor.FaultSpec{Rate429: 1}, http.StatusTooManyRequests, 50196},
		{"503", backdoor.FaultSpec{Rate503: 1}, http.StatusServiceUnavailable, 90033},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _ := newTestInjector(t, tokenSet(tc.spec), 1)
			r := post(tokenPath)
			r.Header.Set("client-request-id", "3f7c0e8a-1111-2222-3333-444455556666")
			r.Header.Set("Origin", "https://app.example")
			w := httptest.NewRecorder()
			in.Wrap(tokenPath, w, r, func(http.ResponseWriter, *http.Request) { t.Error("next called for a faulted request") })
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d", w.Code, tc.status)
			}
			h := w.Result().Header
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if h.Get("Retry-After") != "1" {
				t.Errorf("Retry-After = %q, want the 1s default", h.Get("Retry-After"))
			}
			for k := range h {
				if strings.HasPrefix(strings.ToLower(k), "access-control-") {
					t.Errorf("CORS header %s present", k)
				}
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", w.Body, err)
			}
			if body["error"] != "temporarily_unavailable" {
				t.Errorf("error = %v, want temporarily_unavailable", body["error"])
			}
			codes, _ := body["error_codes"].([]any)
			if len(codes) != 1 || codes[0] != tc.code {
				t.Errorf("error_codes = %v, want [%v]", body["error_codes"], tc.code)
			}
			if body["correlation_id"] != "3f7c0e8a-1111-2222-3333-444455556666" || h.Get("client-request-id") != "3f7c0e8a-1111-2222-3333-444455556666" {
				t.Errorf("correlation_id = %v, client-request-id header %q; want the request's echoed", body["correlation_id"], h.Get("client-request-id"))
			}
			if body["trace_id"] == "" || body["trace_id"] != h.Get("x-ms-request-id") {
				t.Errorf("trace_id = %v, x-ms-request-id = %q; want equal and set", body["trace_id"], h.Get("x-ms-request-id"))
			}
			if body["timestamp"] != "2025-03-04 10:15:00Z" {
				t.Errorf("timestamp = %v", body["timestamp"])
			}
			desc, _ := body["error_description"].(string)
			if !strings.HasPrefix(desc, "AADSTS") || !strings.Contains(desc, "\r\nTrace ID: "+h.Get("x-ms-request-id")) {
				t.Errorf("error_description = %q", desc)
			}
		})
	}
}

func TestErrorAnswerKeepsTraceID(t *testing.T) {
	in, _ := newTestInjector(t, tokenSet(backdoor.FaultSpec{Rate503: 1}), 1)
	w := httptest.NewRecorder()
	w.Header().Set("x-ms-request-id", "trace-from-emulator")
	in.Wrap(tokenPath, w, post(tokenPath), ok)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["trace_id"] != "trace-from-emulator" {
		t.Errorf("trace_id = %v, want the emulator's", body["trace_id"])
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		d    backdoor.Duration
		want string
	}{
		{0, "1"},
		{backdoor.Duration(time.Nanosecond), "1"},
		{backdoor.Duration(time.Second), "1"},
		{ms(1001), "2"},
		{ms(1500), "2"},
		{backdoor.Duration(60 * time.Second), "60"},
		{backdoor.Duration(90 * time.Minute), "5400"},
	} {
		in, _ := newTestInjector(t, tokenSet(backdoor.FaultSpec{Rate429: 1, RetryAfter: tc.d}), 1)
		w := httptest.NewRecorder()
		in.Wrap(tokenPath, w, post(tokenPath), ok)
		if got := w.Header().Get("Retry-After"); got != tc.want {
			t.Errorf("retry_after %v: Retry-After = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFixedLatency(t *testing.T) {
	in, fs := newTestInjector(t, tokenSet(backdoor.FaultSpec{Latency: ms(50), Rate429: 0.5}), 3)
	for range 10 {
		in.Wrap(tokenPath, httptest.NewRecorder(), post(tokenPath), ok)
	}
	// Latency precedes the answer, faulted or not.
	if len(fs.slept) != 10 {
		t.Fatalf("slept %d times for 10 requests", len(fs.slept))
	}
	for _, d := range fs.slept {
		if d != 50*time.Millisecond {
			t.Errorf("slept %v, want 50ms", d)
		}
	}
}

// TestLatencyDistribution checks the empirical p50 and p99 of 20,000 drawn
// latencies against the configured ones. The sample quantiles' standard
// errors are ~1% (p50) and ~3% (p99) here; the tolerances are 4% and 10%.
func TestLatencyDistribution(t *testing.T) {
	for _, tc := range []struct{ p50, p99 backdoor.Duration }{
		{ms(20), ms(200)},
		{ms(100), ms(150)},
		{ms(5), ms(5)},
	} {
		in, fs := newTestInjector(t, tokenSet(backdoor.FaultSpec{LatencyP50: tc.p50, LatencyP99: tc.p99}), 11)
		const n = 20000
		for range n {
			in.Wrap(tokenPath, httptest.NewRecorder(), post(tokenPath), ok)
		}
		got := slices.Clone(fs.slept)
		slices.Sort(got)
		p50, p99 := got[n/2], got[n*99/100]
		within := func(got time.Duration, want backdoor.Duration, tol float64) bool {
			return float64(got) >= float64(want)*(1-tol) && float64(got) <= float64(want)*(1+tol)
		}
		if !within(p50, tc.p50, 0.04) || !within(p99, tc.p99, 0.10) {
			t.Errorf("p50/p99 configured %v/%v, drawn %v/%v", tc.p50, tc.p99, p50, p99)
		}
		if got[0] <= 0 {
			t.Errorf("drew a non-positive latency %v", got[0])
		}
	}
}

func TestLatencyCanceled(t *testing.T) {
	in := NewInjector(tokenSet(backdoor.FaultSpec{Latency: backdoor.Duration(10 * time.Second)}), 1)
	ctx, cancel := context.WithCancel(context.Background())
	r := post(tokenPath).WithContext(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	w := httptest.NewRecorder()
	in.Wrap(tokenPath, w, r, func(http.ResponseWriter, *http.Request) { t.Error("next called after the client went away") })
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Wrap returned after %v; the 10s latency ignored cancellation", el)
	}
	if w.Body.Len() != 0 {
		t.Errorf("answered %q to a canceled request", w.Body)
	}
	if st := in.Stats(); st.Canceled != 1 || st.Delayed != 1 {
		t.Errorf("Stats = %+v, want 1 delayed and 1 canceled", st)
	}
}

// TestDropRealServer drops every connection of a loopback server and checks
// the client sees a transport error, then drops about half of 40.
func TestDropRealServer(t *testing.T) {
	in, _ := newTestInjector(t, tokenSet(backdoor.FaultSpec{DropRate: 1}), 5)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.Wrap(r.URL.Path, w, r, ok)
	}))
	defer srv.Close()
	client := srv.Client()
	client.Timeout = 5 * time.Second
	for range 3 {
		res, err := client.Post(srv.URL+tokenPath, "application/x-www-form-urlencoded", strings.NewReader("a=b"))
		if err == nil {
			res.Body.Close()
			t.Fatalf("dropped request answered %s", res.Status)
		}
		if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
			t.Errorf("client error = %v, want EOF or reset", err)
		}
	}
	if err := in.Set(tokenSet(backdoor.FaultSpec{DropRate: 0.5})); err != nil {
		t.Fatal(err)
	}
	const n = 40
	failed := 0
	for range n {
		res, err := client.Post(srv.URL+tokenPath, "application/x-www-form-urlencoded", strings.NewReader("a=b"))
		if err != nil {
			failed++
			continue
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("passed request answered %s", res.Status)
		}
	}
	// Binomial(40, 0.5): 8..32 holds with probability > 0.9999.
	if failed < 8 || failed > 32 {
		t.Errorf("%d of %d requests dropped at drop_rate 0.5", failed, n)
	}
	if st := in.Stats(); int(st.Dropped) != 3+failed {
		t.Errorf("Stats.Dropped = %d, clients saw %d", st.Dropped, 3+failed)
	}
}

// TestDropWithoutHijacker checks the fallback for writers that cannot be
// hijacked: net/http's abort panic, which servers swallow.
func TestDropWithoutHijacker(t *testing.T) {
	in, _ := newTestInjector(t, tokenSet(backdoor.FaultSpec{DropRate: 1}), 5)
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	in.Wrap(tokenPath, httptest.NewRecorder(), post(tokenPath), ok)
	t.Error("Wrap returned normally for a drop on a recorder")
}

func TestSetGet(t *testing.T) {
	in, _ := newTestInjector(t, backdoor.Faults{}, 1)
	good := tokenSet(backdoor.FaultSpec{Rate429: 1})
	if err := in.Set(good); err != nil {
		t.Fatalf("Set(valid) = %v", err)
	}
	if sp, _ := in.Get().For(tokenPath); sp.Rate429 != 1 {
		t.Errorf("Get after backdoor.Faults = %+v", in.Get())
	}
	if err := in.Set(tokenSet(backdoor.FaultSpec{Rate429: 2})); err == nil {
		t.Fatal("Set(invalid) succeeded")
	}
	if sp, _ := in.Get().For(tokenPath); sp.Rate429 != 1 {
		t.Errorf("invalid backdoor.Faults replaced the current one: %+v", in.Get())
	}
	w := httptest.NewRecorder()
	in.Wrap(tokenPath, w, post(tokenPath), ok)
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("status = %d after Set(429 always)", w.Code)
	}
}

// TestConcurrentSwap runs Wrap while the backdoor.Faults is swapped (run with -race).
func TestConcurrentSwap(t *testing.T) {
	in, _ := newTestInjector(t, backdoor.Faults{}, 1)
	sets := []backdoor.Faults{{}, tokenSet(backdoor.FaultSpec{Rate429: 1}), tokenSet(backdoor.FaultSpec{Rate503: 1}), {Endpoints: map[string]backdoor.FaultSpec{"*": {Latency: ms(1)}}}}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := in.Set(sets[i%len(sets)]); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var bad sync.Map
	var workers sync.WaitGroup
	for range 4 {
		workers.Go(func() {
			for range 500 {
				w := httptest.NewRecorder()
				in.Wrap(tokenPath, w, post(tokenPath), ok)
				if w.Code != 200 && w.Code != 429 && w.Code != 503 {
					bad.Store(w.Code, true)
				}
			}
		})
	}
	workers.Wait()
	close(stop)
	wg.Wait()
	bad.Range(func(k, _ any) bool { t.Errorf("unexpected status %v", k); return true })
}

// BenchmarkWrapNoFault is the cost Wrap adds to an endpoint without faults.
func BenchmarkWrapNoFault(b *testing.B) {
	in := NewInjector(tokenSet(backdoor.FaultSpec{Rate429: 0.1}), 1)
	r := post("/signup/v1.0/start")
	w := httptest.NewRecorder()
	next := func(http.ResponseWriter, *http.Request) {}
	for b.Loop() {
		in.Wrap("/signup/v1.0/start", w, r, next)
	}
}

// BenchmarkWrapDecide is the cost of drawing an outcome on a faulted endpoint
// whose draw passes the request on.
func BenchmarkWrapDecide(b *testing.B) {
	in := NewInjector(tokenSet(backdoor.FaultSpec{Rate429: 1e-12}), 1)
	r := post(tokenPath)
	w := httptest.NewRecorder()
	next := func(http.ResponseWriter, *http.Request) {}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			in.Wrap(tokenPath, w, r, next)
		}
	})
}

// TestErrorAnswerCorrelatesQueryID: MSAL sends client-request-id in the
// token URL's query; a faulted answer echoes it as the emulator does.
func TestErrorAnswerCorrelatesQueryID(t *testing.T) {
	in, _ := newTestInjector(t, tokenSet(backdoor.FaultSpec{Rate429: 1}), 1)
	const id = "9a8b7c6d-1111-2222-3333-444455556666"
	r := post(tokenPath + "?client-request-id=" + id)
	w := httptest.NewRecorder()
	in.Wrap(tokenPath, w, r, ok)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["correlation_id"] != id || w.Result().Header.Get("client-request-id") != id {
		t.Errorf("correlation_id = %v, client-request-id header %q; want %s", body["correlation_id"], w.Result().Header.Get("client-request-id"), id)
	}
}

// TestErrorAnswerCarriesClientRequestID: a faulted answer has a
// client-request-id header even when the request sent none (MSAL iOS reads
// it as a UUID), the same value as the body's correlation_id; one the
// emulator already set is kept.
func TestErrorAnswerCarriesClientRequestID(t *testing.T) {
	for _, preset := range []string{"", "5d4c3b2a-1111-2222-3333-444455556666"} {
		in, _ := newTestInjector(t, tokenSet(backdoor.FaultSpec{Rate503: 1}), 1)
		w := httptest.NewRecorder()
		if preset != "" {
			w.Header().Set("client-request-id", preset)
		}
		in.Wrap(tokenPath, w, post(tokenPath), ok)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		got := w.Result().Header.Get("client-request-id")
		if _, err := uuid.Parse(got); err != nil || body["correlation_id"] != got {
			t.Errorf("preset %q: client-request-id header %q, correlation_id %v: want one UUID in both", preset, got, body["correlation_id"])
		}
		if preset != "" && got != preset {
			t.Errorf("client-request-id %q, want the emulator's %q kept", got, preset)
		}
	}
}
