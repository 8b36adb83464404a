package nativeauth

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBadAnswers(t *testing.T) {
	big := `{"continuation_token":"` + strings.Repeat("A", 2<<20) + `"}`
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		reason      string // substring of the ProtocolError
	}{
		{"HTML body", 200, "text/html; charset=utf-8", "<html><body>Sign in</body></html>", `Content-Type "text/html; charset=utf-8"`},
		{"HTML error page", 502, "text/html", "<html>Bad Gateway</html>", "error status without a JSON error body"},
		{"text/plain JSON", 200, "text/plain", `{"continuation_token":"ct"}`, `Content-Type "text/plain"`},
		{"no content type", 200, "", `{"continuation_token":"ct"}`, "want application/json"},
		{"json-ish content type", 200, "application/jsonp", `{"continuation_token":"ct"}`, "want application/json"},
		{"truncated JSON", 200, "application/json", `{"continuation_token":"AQAB`, "invalid JSON"},
		{"trailing data", 200, "application/json", `{"continuation_token":"ct"} {}`, "invalid JSON"},
		{"null", 200, "application/json", `null`, "not a JSON object"},
		{"array", 200, "application/json", `[{"continuation_token":"ct"}]`, "not a JSON object"},
		{"empty 200", 200, "application/json", ``, "empty body"},
		{"wrong member type", 200, "application/json", `{"continuation_token":42}`, "invalid JSON"},
		{"2 MiB body", 200, "application/json", big, "body exceeds 1048576 bytes"},
		{"500 empty", 500, "", "", "error status without a JSON error body"},
		{"503 empty json", 503, "application/json", "", "error status without a valid JSON error body"},
		{"400 without error member", 400, "application/json", `{"error_description":"x"}`, `without an "error" member`},
		{"200 with error member", 200, "application/json", `{"error":"invalid_grant","continuation_token":"ct"}`, `HTTP 200 with an "error" member`},
		{"200 missing continuation_token", 200, "application/json", `{"expires_in":600}`, `required member "continuation_token"`},
		{"302", 302, "", "", "unexpected redirect status"},
		{"204", 204, "", "", "unexpected status 204"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == 302 {
					// A redirect the client must not follow.
					w.Header().Set("Location", "/elsewhere")
				}
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				} else {
					w.Header()["Content-Type"] = nil // suppress sniffing
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			res, err := testClient(srv).SignUpStart(t.Context(), SignUpStartRequest{Username: "u"})
			if res != nil {
				t.Fatalf("got a result %+v with answer %q", res, tt.name)
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("want *ProtocolError, got %T %v", err, err)
			}
			if !strings.Contains(pe.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", pe.Error(), tt.reason)
			}
			if pe.HTTPStatus != tt.status || pe.Endpoint != EndpointSignUpStart || pe.Response == nil {
				t.Errorf("ProtocolError names HTTP %d %s", pe.HTTPStatus, pe.Endpoint)
			}
			if len(pe.Snippet) > 4*snippetMax+3 {
				t.Errorf("snippet is %d bytes", len(pe.Snippet))
			}
		})
	}
}

func TestUnknownMembersIgnored(t *testing.T) {
	srv := serveBody(t, 200, "application/json", []byte(`{"continuation_token":"ct","future_member":{"a":[1,2]},"challenge_type":"oob","x":null}`))
	res, err := testClient(srv).SignUpChallenge(t.Context(), ChallengeRequest{ContinuationToken: "c"})
	if err != nil || res.ContinuationToken.Reveal() != "ct" || res.ChallengeType != ChallengeTypeOOB {
		t.Fatalf("got %+v, %v", res, err)
	}
}

func TestErrorWithUnknownCodeAndStatus(t *testing.T) {
	srv := serveBody(t, 429, "application/json", []byte(`{"error":"temporarily_unavailable","error_codes":[50196],"trace_id":"t1","new":"x"}`))
	_, err := testClient(srv).Token(t.Context(), TokenRequest{GrantType: GrantTypePassword})
	e, ok := AsError(err)
	if !ok || e.HTTPStatus != 429 || e.Code != ErrTemporarilyUnavailable || !e.HasErrorCode(CodeThrottled) {
		t.Fatalf("got %v", err)
	}
}

func TestConnectionReset(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("no hijacker")
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_ = conn.Close()
	}))
	defer srv.Close()
	var hook atomic.Int32
	c := testClient(srv)
	c.OnResponse = func(r *Response) {
		hook.Add(1)
		if r.HTTPStatus != 0 || r.Timing.Start.IsZero() || r.Timing.Done.IsZero() {
			t.Errorf("failed exchange reported as %d %+v", r.HTTPStatus, r.Timing)
		}
	}
	res, err := c.SignInInitiate(t.Context(), InitiateRequest{Username: "u"})
	if res != nil || err == nil {
		t.Fatalf("got %v, %v", res, err)
	}
	var pe *ProtocolError
	var ae *Error
	if errors.As(err, &pe) || errors.As(err, &ae) {
		t.Errorf("a transport failure is neither an API nor a protocol error: %T", err)
	}
	if !strings.Contains(err.Error(), string(EndpointSignInInitiate)) {
		t.Errorf("error %q does not name the endpoint", err)
	}
	if hook.Load() != 1 {
		t.Errorf("OnResponse called %d times", hook.Load())
	}
}

// TestTruncatedByConnection: the server promises more bytes than it sends.
func TestTruncatedByConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"continuation_token":"A`)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	defer srv.Close()
	res, err := testClient(srv).SignInInitiate(t.Context(), InitiateRequest{Username: "u"})
	var pe *ProtocolError
	if res != nil || !errors.As(err, &pe) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, %v; want a ProtocolError wrapping unexpected EOF", res, err)
	}
	if pe.Reason != "truncated body" || pe.HTTPStatus != 200 || !strings.Contains(pe.Snippet, "continuation_token") || strings.Contains(pe.Snippet, `"A`) {
		t.Errorf("ProtocolError %q, snippet %q", pe.Reason, pe.Snippet)
	}
}

func TestContextCancelledMidRequest(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"continuation_token":`)
		w.(http.Flusher).Flush()
		select { // hold the body open until the client gives up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	res, err := testClient(srv).SignInInitiate(ctx, InitiateRequest{Username: "u"})
	if res != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, %v; want context.Canceled", res, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}
}

func TestTimingAndHook(t *testing.T) {
	srv := serveBody(t, 200, "application/json", []byte(`{"continuation_token":"ct"}`))
	var got []*Response
	c := testClient(srv)
	c.OnResponse = func(r *Response) { got = append(got, r) }
	for i := range 2 {
		res, err := c.SignInInitiate(t.Context(), InitiateRequest{Username: "u"})
		if err != nil {
			t.Fatal(err)
		}
		tm := res.Response.Timing
		if tm.Start.IsZero() || tm.WroteRequest.Before(tm.Start) || tm.FirstByte.Before(tm.WroteRequest) || tm.Done.Before(tm.FirstByte) {
			t.Errorf("call %d: timing out of order %+v", i, tm)
		}
		if i == 0 && (tm.ReusedConn || tm.ConnectStart.IsZero() || tm.ConnectDone.Before(tm.ConnectStart)) {
			t.Errorf("first call: want a fresh connection, got %+v", tm)
		}
		if i == 1 && !tm.ReusedConn {
			t.Errorf("second call did not reuse the connection")
		}
	}
	if len(got) != 2 || got[0].HTTPStatus != 200 {
		t.Errorf("OnResponse saw %d responses", len(got))
	}
}

func TestRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		if r.URL.Path == "/contoso.onmicrosoft.com"+string(EndpointToken) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			_, _ = io.WriteString(w, `{"error":"temporarily_unavailable"}`)
			return
		}
		w.WriteHeader(503) // no body: a ProtocolError
	}))
	defer srv.Close()
	c := testClient(srv)
	_, err := c.Token(t.Context(), TokenRequest{})
	if d, ok := RetryAfter(err); !ok || d != 7*time.Second {
		t.Errorf("Error: RetryAfter = %v %v", d, ok)
	}
	_, err = c.ResetStart(t.Context(), ResetStartRequest{})
	if d, ok := RetryAfter(err); !ok || d != 7*time.Second {
		t.Errorf("ProtocolError: RetryAfter = %v %v (%v)", d, ok, err)
	}
	if _, ok := RetryAfter(errors.New("x")); ok {
		t.Error("RetryAfter on a plain error")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 120 ", 120 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999", 365 * 24 * time.Hour, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{strconv.Itoa(3600), time.Hour, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMaxBodyBytesConfigurable(t *testing.T) {
	body := []byte(`{"continuation_token":"0123456789"}`)
	srv := serveBody(t, 200, "application/json", body)
	c := testClient(srv)
	c.MaxBodyBytes = int64(len(body))
	if _, err := c.SignInInitiate(t.Context(), InitiateRequest{}); err != nil {
		t.Fatalf("body of exactly MaxBodyBytes rejected: %v", err)
	}
	// The largest limit means "no limit", not an overflowed read of nothing.
	c.MaxBodyBytes = math.MaxInt64
	if res, err := c.SignInInitiate(t.Context(), InitiateRequest{}); err != nil || res.ContinuationToken != "0123456789" {
		t.Fatalf("MaxBodyBytes math.MaxInt64: %+v, %v", res, err)
	}
	c.MaxBodyBytes = int64(len(body)) - 1
	resp, err := c.Do(t.Context(), EndpointSignInInitiate, nil)
	var pe *ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "exceeds") || resp == nil || int64(len(resp.Body)) != c.MaxBodyBytes {
		t.Fatalf("Do over the limit: %v, body %d bytes", err, len(resp.Body))
	}
}

// TestConcurrentUse: one Client shared by many goroutines, as the load
// generator does; run with -race.
func TestConcurrentUse(t *testing.T) {
	srv, _ := formServer(t)
	c := testClient(srv)
	var calls atomic.Int64
	c.OnResponse = func(*Response) { calls.Add(1) }
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			var err error
			for range 10 {
				if _, err = c.SignInInitiate(t.Context(), InitiateRequest{Username: "u"}); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if calls.Load() != 160 {
		t.Errorf("OnResponse saw %d exchanges, want 160", calls.Load())
	}
}

func TestTimingTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"continuation_token":"ct"}`)
	}))
	defer srv.Close()
	res, err := testClient(srv).SignInInitiate(t.Context(), InitiateRequest{Username: "u"})
	if err != nil {
		t.Fatal(err)
	}
	tm := res.Response.Timing
	if tm.TLSStart.IsZero() || tm.TLSDone.Before(tm.TLSStart) || tm.TLSStart.Before(tm.ConnectDone) || tm.WroteRequest.Before(tm.TLSDone) {
		t.Errorf("TLS timing out of order: %+v", tm)
	}
}

// TestPollSucceededWithoutToken: succeeded is the one status the pages tie
// to a continuation token (it signs the user in at token), so an answer
// without it is a ProtocolError, not a result the caller must re-check.
func TestPollSucceededWithoutToken(t *testing.T) {
	for body, wantErr := range map[string]bool{
		`{"status":"succeeded"}`:                          true,
		`{"status":"succeeded","continuation_token":""}`:  true,
		`{"status":"succeeded","continuation_token":"c"}`: false,
		`{"status":"in_progress"}`:                        false,
		`{"status":"not_started"}`:                        false,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		}))
		res, err := testClient(srv).ResetPollCompletion(t.Context(), PollRequest{ContinuationToken: "ct"})
		srv.Close()
		var pe *ProtocolError
		switch {
		case wantErr && (res != nil || !errors.As(err, &pe) || !strings.Contains(pe.Reason, `"continuation_token"`)):
			t.Errorf("%s: want a ProtocolError naming continuation_token, got %+v, %v", body, res, err)
		case !wantErr && (err != nil || res == nil || res.Status == ""):
			t.Errorf("%s: want a result, got %+v, %v", body, res, err)
		}
	}
}

// TestRedirectOnlyWherePagesDefineOne sends a redirect answer to every typed
// method: the four endpoints whose pages define no redirect must report a
// *ProtocolError, the others a result carrying the Redirect.
func TestRedirectOnlyWherePagesDefineOne(t *testing.T) {
	none := map[Endpoint]bool{
		EndpointResetContinue: true, EndpointResetSubmit: true,
		EndpointResetPollCompletion: true, EndpointRegisterContinue: true,
	}
	srv := serveBody(t, 200, "application/json", []byte(`{"challenge_type":"redirect","redirect_reason":"r"}`))
	for _, ep := range Endpoints {
		res, err := callEndpoint(t.Context(), testClient(srv), ep)
		var pe *ProtocolError
		switch {
		case none[ep] && !errors.As(err, &pe):
			t.Errorf("%s: want *ProtocolError for a redirect, got %v %v", ep, res, err)
		case none[ep]:
			continue
		case err != nil:
			t.Errorf("%s: want a redirect result, got error %v", ep, err)
		default:
			if r, ok := res.(interface{ IsRedirect() bool }); !ok || !r.IsRedirect() {
				t.Errorf("%s: result is not a redirect: %+v", ep, res)
			}
		}
	}
}
