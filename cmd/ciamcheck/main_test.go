package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mainUnderTest makes the test binary run main() instead of the tests, so a
// test can send real signals to a real ciamcheck process.
const mainUnderTest = "CIAMCHECK_MAIN_UNDER_TEST"

func TestMain(m *testing.M) {
	if os.Getenv(mainUnderTest) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The first Ctrl-C starts the graceful stop; a second one during it ends the
// process at once (killed by the signal), instead of being swallowed while
// in-flight flows wait out a long graceful_stop.
func TestSecondInterruptQuitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ciamcheck in a subprocess")
	}
	// A tenant that passes the preflight, then never answers: every flow
	// stays in flight, so the graceful stop would last its whole 60 s.
	release := make(chan struct{})
	// inFlight is closed by the first flow's request: the load has begun,
	// so the process has its signal handler and a graceful stop to make.
	inFlight := make(chan struct{})
	var firstFlow sync.Once
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if answerPreflight(w, r) {
			return
		}
		firstFlow.Do(func() { close(inFlight) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	dir := t.TempDir()
	profile := filepath.Join(dir, "hang.yaml")
	plan := filepath.Join(dir, "long.yaml")
	if err := os.WriteFile(profile, []byte("kind: tenant\nbase_url: "+hang.URL+"/contoso.onmicrosoft.com\ntenant: contoso\nclient_id: 00000000-0000-0000-0000-000000000001\nexpect: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plan, []byte("name: long\ngraceful_stop: 60s\nscenarios:\n  - {flow: signup-password, executor: constant-arrival-rate, rate: 5, duration: 2m, max_in_flight: 20}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "load", "--target", profile, "--plan", plan, "-q", "--out", filepath.Join(dir, "run.json"))
	cmd.Env = append(os.Environ(), mainUnderTest+"=1")
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	// Waits for events, not for fixed times: on a busy machine the process
	// took longer than a sleep to start its load, or to hand the signals
	// back after the first one (a second SIGINT before that is swallowed).
	select {
	case <-inFlight:
	case err := <-done:
		t.Fatalf("ciamcheck ended before its load began (%v):\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no flow reached the tenant in 30 s:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	const stopping = "stopping gracefully (again to quit at once)"
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), stopping); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("ciamcheck ended after the first interrupt (%v), before the graceful stop of flows that never finish:\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no word on the graceful stop 30 s after the first interrupt:\n%s", stderr.String())
		}
	}
	// A process that wrongly ended its graceful stop early would do so
	// now: give it the time to.
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("ciamcheck ended after the first interrupt (%v), before the graceful stop of flows that never finish:\n%s", err, stderr.String())
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("wait: %v", err)
		}
		ws, ok := ee.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
			t.Errorf("ciamcheck ended with %v, want killed by the second SIGINT\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("ciamcheck still running 15 s after the second interrupt:\n%s", stderr.String())
	}
}

// answerPreflight answers the preflight's probes as a tenant that knows the
// client would (discovery; no such user; a sign-up start that falls back
// to the web), so a test's fake tenant can misbehave only where it means
// to. It reports whether r was one of them.
func answerPreflight(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"http://issuer","jwks_uri":"http://issuer/keys"}`))
	case r.Method == http.MethodPost && r.FormValue("username") != "" && strings.Contains(r.FormValue("username"), "preflight"):
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/initiate") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"user_not_found","error_description":"no such user","error_codes":[50034]}`))
			return true
		}
		_, _ = w.Write([]byte(`{"challenge_type":"redirect"}`))
	default:
		return false
	}
	return true
}

// Every command keeps one exit-status contract; a usage mistake or an input
// that cannot be read is "could not judge" (2), never the 1 of a judged
// failure. Runs the real binary, so os.Exit's status is what is checked.
func TestExitStatusContract(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ciamcheck in subprocesses")
	}
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A profile whose tenant nothing serves: the preflight says so.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().String()
	l.Close()
	closed := filepath.Join(dir, "closed.yaml")
	if err := os.WriteFile(closed, []byte("kind: tenant\nbase_url: http://"+closedPort+"/contoso.onmicrosoft.com\ntenant: contoso\nclient_id: 00000000-0000-0000-0000-000000000001\nexpect: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want int
		says string
	}{
		{[]string{"--bogus"}, exitCouldNotRun, "unknown flag: --bogus"},
		{[]string{"nosuchcommand"}, exitCouldNotRun, "unknown command"},
		{[]string{"report", garbage, "--fail-on-regresion"}, exitCouldNotRun, "unknown flag: --fail-on-regresion"},
		{[]string{"report", garbage, "--format", "pdf"}, exitCouldNotRun, ""},
		{[]string{"report"}, exitCouldNotRun, "accepts 1 arg"},
		{[]string{"report", filepath.Join(dir, "missing.json")}, exitCouldNotRun, "missing.json"},
		{[]string{"report", garbage}, exitCouldNotRun, "garbage.json"},
		{[]string{"conformance", "--target", filepath.Join(dir, "nope.yaml")}, exitCouldNotRun, "nope.yaml"},
		{[]string{"load", "--plan", filepath.Join(dir, "nope.yaml")}, exitCouldNotRun, "nope.yaml"},
		{[]string{"conformance", "--target", closed}, exitCouldNotRun, "preflight connect: " + closedPort + " (refused)"},
		{[]string{"load", "--target", closed}, exitCouldNotRun, "preflight connect: " + closedPort + " (refused)"},
		{[]string{"load", "--duration-typo", "1s"}, exitCouldNotRun, "unknown flag"},
		{[]string{"catalog", "--format", "pdf"}, exitCouldNotRun, "--format"},
		{[]string{"emulator", "--addr"}, exitCouldNotRun, "flag needs an argument"},
		{[]string{"emulator", "--addr", "0.0.0.0:0"}, exitCouldNotRun, "backdoor would be open to the network"},
		{[]string{"report", "verify", garbage}, exitCouldNotRun, "nothing to verify against"},
		{[]string{"report", "verify", "--key", garbage, garbage}, exitCouldNotRun, "--key"},
		{[]string{"version"}, exitPassed, "ciamcheck"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], tc.args...)
			// No backdoor token from the environment: the emulator case
			// needs the unprotected default.
			cmd.Env = append(os.Environ(), mainUnderTest+"=1", "CIAMCHECK_BACKDOOR_TOKEN=")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.want || !strings.Contains(out.String(), tc.says) {
				t.Fatalf("exit %d, want %d, saying %q; output:\n%s", code, tc.want, tc.says, out.String())
			}
		})
	}
}
