package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// harness is one emulator behind a loopback httptest server.
type harness struct {
	t    testing.TB
	e    *Emulator
	srv  *httptest.Server
	base string // tenant base URL
	cli  *http.Client
}

func newHarness(t testing.TB, mutate func(*backdoor.Config)) *harness {
	t.Helper()
	cfg := DefaultConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{t: t, e: e, srv: srv, base: srv.URL + "/" + cfg.Tenant + ".onmicrosoft.com", cli: srv.Client()}
}

// resp is one decoded answer.
type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r resp) str(k string) string {
	s, _ := r.body[k].(string)
	return s
}

func (r resp) code() int {
	cs, _ := r.body["error_codes"].([]any)
	if len(cs) == 0 {
		return 0
	}
	f, _ := cs[0].(float64)
	return int(f)
}

func (h *harness) do(req *http.Request) resp {
	h.t.Helper()
	res, err := h.cli.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatalf("read body: %v", err)
	}
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			h.t.Fatalf("%s %s: body is not JSON: %q", req.Method, req.URL.Path, raw)
		}
	}
	for k := range res.Header {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			h.t.Errorf("%s %s: CORS header %s present", req.Method, req.URL.Path, k)
		}
	}
	if res.Header.Get("x-ms-request-id") == "" {
		h.t.Errorf("%s %s: no x-ms-request-id", req.Method, req.URL.Path)
	}
	// client-request-id on every answer: the request's when it sent one,
	// else a fresh UUID (MSAL iOS parses it as one).
	if sent, got := req.Header.Get("client-request-id"), res.Header.Get("client-request-id"); sent != "" && got != sent {
		h.t.Errorf("%s %s: client-request-id: want %q echoed, got %q", req.Method, req.URL.Path, sent, got)
	} else if sent == "" && req.URL.Query().Get("client-request-id") == "" && !isUUID(got) {
		h.t.Errorf("%s %s: client-request-id: want a fresh UUID, got %q", req.Method, req.URL.Path, got)
	}
	return out
}

// post sends a form to a tenant endpoint.
func (h *harness) post(ep nativeauth.Endpoint, form url.Values) resp {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.base+string(ep), strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.do(req)
}

// backdoor calls /emulator/v1/{p} with an optional JSON body.
func (h *harness) backdoor(method, p string, body any) resp {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, h.srv.URL+"/emulator/v1/"+p, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(req)
}

// lastCode reads the newest OTP sent to username from the outbox.
func (h *harness) lastCode(username string) string {
	h.t.Helper()
	r := h.backdoor(http.MethodGet, "outbox?username="+url.QueryEscape(username), nil)
	msgs, _ := r.body["messages"].([]any)
	if r.status != http.StatusOK || len(msgs) == 0 {
		h.t.Fatalf("outbox for %s: status %d, %d messages", username, r.status, len(msgs))
	}
	m, _ := msgs[len(msgs)-1].(map[string]any)
	code, _ := m["code"].(string)
	return code
}

func (h *harness) createUser(username, password string, attrs map[string]string) {
	h.t.Helper()
	r := h.backdoor(http.MethodPost, "users", map[string]any{"username": username, "password": password, "attributes": attrs})
	if r.status != http.StatusCreated {
		h.t.Fatalf("create user: %d %s", r.status, r.raw)
	}
}

// passwordChallenged starts a sign-in for u and runs its challenge, both
// with "password redirect", and returns the token for the password grant.
func (h *harness) passwordChallenged(u string) string {
	h.t.Helper()
	ct := wantToken(h.t, "initiate", h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", u, "challenge_type", "password redirect")))
	return wantToken(h.t, "challenge", h.post(nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct, "challenge_type", "password redirect")))
}

// resetSubmitted runs a password reset for u up to the submit of
// newPassword and returns the token for the first poll.
func (h *harness) resetSubmitted(u, newPassword string) string {
	h.t.Helper()
	ct := wantToken(h.t, "reset start", h.post(nativeauth.EndpointResetStart, vals("client_id", clientID, "username", u, "challenge_type", "oob redirect")))
	ct = wantToken(h.t, "reset challenge", h.post(nativeauth.EndpointResetChallenge, vals("client_id", clientID, "continuation_token", ct)))
	ct = wantToken(h.t, "reset continue", h.post(nativeauth.EndpointResetContinue, vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", h.lastCode(u))))
	return wantToken(h.t, "submit", h.post(nativeauth.EndpointResetSubmit, vals("client_id", clientID, "continuation_token", ct, "new_password", newPassword)))
}

// wantOK fails unless r is a 200 carrying a continuation token.
func wantToken(t testing.TB, what string, r resp) string {
	t.Helper()
	if r.status != http.StatusOK || r.str("continuation_token") == "" {
		t.Fatalf("%s: want 200 with continuation_token, got %d %s", what, r.status, r.raw)
	}
	return r.str("continuation_token")
}

// wantError checks an error answer's shape and values.
func wantError(t testing.TB, what string, r resp, code nativeauth.ErrorCode, sub nativeauth.Suberror, n int) {
	t.Helper()
	if r.status != http.StatusBadRequest {
		t.Errorf("%s: status %d, want 400 (%s)", what, r.status, r.raw)
	}
	if got := nativeauth.ErrorCode(r.str("error")); got != code {
		t.Errorf("%s: error %q, want %q (%s)", what, got, code, r.raw)
	}
	if got := nativeauth.Suberror(r.str("suberror")); got != sub {
		t.Errorf("%s: suberror %q, want %q", what, got, sub)
	}
	if n != 0 && r.code() != n {
		t.Errorf("%s: error_codes %v, want [%d]", what, r.body["error_codes"], n)
	}
	for _, k := range []string{"error_description", "timestamp", "trace_id", "correlation_id"} {
		if r.str(k) == "" {
			t.Errorf("%s: %s missing", what, k)
		}
	}
	if !strings.HasPrefix(r.str("error_description"), "AADSTS") || !strings.Contains(r.str("error_description"), "\r\nTrace ID: "+r.str("trace_id")) {
		t.Errorf("%s: error_description %q not in Entra's form", what, r.str("error_description"))
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("%s: Content-Type %q", what, r.header.Get("Content-Type"))
	}
}

const (
	clientID    = DefaultNativeClientID
	goodPass    = "Str0ng!Secret"
	otherPass   = "An0ther#Secret"
	displayName = "Ada Lovelace"
)

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// sweepContinuously runs the janitor's sweep back to back until the
// returned function is called, which waits for the last sweep to end.
func (h *harness) sweepContinuously() (stop func()) {
	done, swept := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(swept)
		for {
			select {
			case <-done:
				return
			default:
				h.e.sweep()
			}
		}
	}()
	return func() {
		close(done)
		<-swept
	}
}
