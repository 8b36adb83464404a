package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/otp"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// The canned API: sign-in with a password answered with fixed bodies, no
// state and no crypto, so that a benchmark measures the load generator and
// not the emulator.
const (
	cannedTenant   = "canned"
	cannedClientID = "00000000-0000-0000-0000-00000000c1d0"
	cannedPassword = nativeauth.Secret("canned-Passw0rd!") // the k6 script's default
	k6Script       = "testdata/k6/signin-password.js"
)

var cannedAnswers = map[string]string{
	string(nativeauth.EndpointSignInInitiate):  `{"continuation_token":"canned-ct-initiate"}`,
	string(nativeauth.EndpointSignInChallenge): `{"challenge_type":"password","continuation_token":"canned-ct-challenge"}`,
	string(nativeauth.EndpointToken): `{"token_type":"Bearer","scope":"openid offline_access","expires_in":3600,"ext_expires_in":3600,` +
		`"access_token":"canned-access-token","refresh_token":"canned-refresh-token","id_token":"canned-id-token"}`,
}

// cannedAPI answers the sign-in endpoints under any tenant path; anything
// else is a 404.
func cannedAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for ep, body := range cannedAnswers {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, ep) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				_, _ = io.WriteString(w, body)
				return
			}
		}
		http.NotFound(w, r)
	})
}

// cannedServerEnv makes the test binary the canned server's process (see
// TestMain): BenchmarkK6Comparison runs it apart, so that the CPU of each
// load generator can be measured without the server's.
const cannedServerEnv = "CIAMCHECK_CANNED_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(cannedServerEnv) != "" {
		os.Exit(serveCanned())
	}
	os.Exit(m.Run())
}

// serveCanned serves the canned API on loopback, prints its URL and serves
// until its standard input closes.
func serveCanned() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	srv := &http.Server{Handler: cannedAPI(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
	return 0
}

// startCannedServer runs the canned server in a child process and returns
// its URL; the child ends with the test.
func startCannedServer(tb testing.TB) string {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), cannedServerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("canned server: %v", err)
	}
	return strings.TrimSpace(line)
}

// cannedUsers is the pool both tools sign in from: user-N@example.com, one
// password.
func cannedUsers(n int) *scenarios.UserPool {
	creds := make([]scenarios.Credential, n)
	for i := range creds {
		creds[i] = scenarios.Credential{Username: fmt.Sprintf("user-%d@example.com", i), Password: cannedPassword}
	}
	return scenarios.NewUserPool(creds...)
}

// noSignUps is the username source of flows that never sign up.
type noSignUps struct{}

func (noSignUps) New(tag string) string { return "unused-" + tag + "@example.com" }

// cannedSignIn is ciamcheck's signin-password flow against the canned API
// at serverURL, through the default HTTP client as a load run uses it.
func cannedSignIn(serverURL string, users int) (scenarios.Flow, error) {
	return scenarios.New(scenarios.FlowSignInPassword, scenarios.Config{
		Client: &nativeauth.Client{Tenant: cannedTenant, ClientID: cannedClientID, BaseURL: cannedBaseURL(serverURL)},
		OTP: otp.SourceFunc(func(context.Context, string, time.Time) (nativeauth.Secret, error) {
			return "", errors.New("the canned API sends no codes")
		}),
		Users: noSignUps{},
		Pool:  cannedUsers(users),
	})
}

func cannedBaseURL(serverURL string) string {
	return serverURL + "/" + cannedTenant + ".onmicrosoft.com"
}

// TestK6ScriptSendsTheFlowsForms runs ciamcheck's signin-password flow once
// against the canned API and checks that the k6 script sends the same
// requests: every field the flow sends is in the script, with the same
// value where the value is not per user or per answer.
func TestK6ScriptSendsTheFlowsForms(t *testing.T) {
	var mu sync.Mutex
	var sent []url.Values
	api := cannedAPI()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		mu.Lock()
		sent = append(sent, r.PostForm)
		mu.Unlock()
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	flow, err := cannedSignIn(srv.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	rec := &stepNames{}
	if err := flow.Run(context.Background(), scenarios.Iteration{IntendedStart: time.Now(), Observer: rec}); err != nil {
		t.Fatalf("signin-password against the canned API: %v", err)
	}
	if got := strings.Join(rec.names, " "); got != "signin.initiate signin.challenge token.password token.refresh" {
		t.Fatalf("steps: want the 4 of sign-in with a password, got %s", got)
	}
	script, err := os.ReadFile(k6Script)
	if err != nil {
		t.Fatal(err)
	}
	perAnswer := map[string]bool{"username": true, "password": true, "continuation_token": true, "refresh_token": true}
	for _, form := range sent {
		for key, vals := range form {
			if !strings.Contains(string(script), key+":") {
				t.Errorf("%s: the flow sends %s, the k6 script does not", k6Script, key)
				continue
			}
			if v := vals[0]; !perAnswer[key] && key != "client_id" && !strings.Contains(string(script), "'"+v+"'") {
				t.Errorf("%s: %s: want '%s' as the flow sends it, not found", k6Script, key, v)
			}
		}
	}
}

// stepNames keeps the names of the steps observed.
type stepNames struct {
	mu    sync.Mutex
	names []string
}

func (s *stepNames) ObserveStep(res scenarios.StepResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names = append(s.names, string(res.Step))
}

func TestParseK6Summary(t *testing.T) {
	for _, tc := range []struct {
		file string
		want k6Summary
	}{
		{"summary-export.json", k6Summary{Iterations: 9987, Completed: 9987, Dropped: 13, FailedReqs: 0, P99: 31020 * time.Microsecond}},
		{"handle-summary.json", k6Summary{Iterations: 17412, Completed: 17390, Dropped: 2588, FailedReqs: 22, P99: 353400 * time.Microsecond}},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "k6", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseK6Summary(data)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if got != tc.want {
			t.Errorf("%s: want %+v, got %+v", tc.file, tc.want, got)
		}
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"not JSON", `{"metrics":`, "k6 summary: unexpected end of JSON input"},
		{"no iterations", `{"metrics":{"vus":{"value":1}}}`, "k6 summary: metrics.iterations: want a metric, got none"},
		{"no count", `{"metrics":{"iterations":{"rate":3}}}`, `k6 summary: metrics.iterations count: want a number in [0, 1e12), got ""`},
		{"count a string", `{"metrics":{"iterations":{"values":{"count":"9"}}}}`, `k6 summary: metrics.iterations count: want a number in [0, 1e12), got "\"9\""`},
		{"negative", `{"metrics":{"iterations":{"count":-1}}}`, `k6 summary: metrics.iterations count: want a number in [0, 1e12), got "-1"`},
		{"too large", `{"metrics":{"iterations":{"count":1e300}}}`, `k6 summary: metrics.iterations count: want a number in [0, 1e12), got "1e300"`},
	} {
		if _, err := parseK6Summary([]byte(tc.doc)); err == nil || err.Error() != tc.want {
			t.Errorf("%s: error: want %s, got %v", tc.name, tc.want, err)
		}
	}
}

func FuzzParseK6Summary(f *testing.F) {
	for _, name := range []string{"summary-export.json", "handle-summary.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "k6", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseK6Summary(data)
		if err == nil && (s.Iterations < 0 || s.Completed < 0 || s.Dropped < 0 || s.P99 < 0) {
			t.Errorf("negative figures without an error: %+v", s)
		}
	})
}
