package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

func TestRunEmulatorServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, logs bytes.Buffer
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- runEmulator(ctx, emulatorOptions{Addr: "127.0.0.1:0", Tenant: "fabrikam"}, &out,
			slog.New(slog.NewTextHandler(&logs, nil)), func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("runEmulator returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not start")
	}
	res, err := http.Get("http://" + addr + "/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var doc map[string]any
	if res.StatusCode != 200 || json.Unmarshal(body, &doc) != nil || doc["issuer"] != "http://"+addr+"/fabrikam.onmicrosoft.com/v2.0" {
		t.Fatalf("discovery: %d %s", res.StatusCode, body)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("runEmulator: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not stop")
	}
	if !strings.Contains(out.String(), "http://"+addr+"/fabrikam.onmicrosoft.com") || !strings.Contains(out.String(), "00000000-0000-4000-8000-00000000c1a0") {
		t.Errorf("banner lacks base URL or client ID:\n%s", out.String())
	}
	if !strings.Contains(logs.String(), "openid-configuration") {
		t.Errorf("request not logged: %s", logs.String())
	}
}

func TestRunEmulatorBadConfig(t *testing.T) {
	err := runEmulator(context.Background(), emulatorOptions{Addr: "127.0.0.1:0", ConfigPath: "/nonexistent/tenant.yaml"}, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.Contains(err.Error(), "tenant.yaml") {
		t.Fatalf("want a config error naming the file, got %v", err)
	}
}

// startEmulator serves runEmulator until the test ends and returns its
// address.
func startEmulator(t *testing.T, o emulatorOptions, out io.Writer) string {
	t.Helper()
	return startEmulatorLogging(t, o, out, io.Discard)
}

// startEmulatorLogging is startEmulator with its request log sent to logs.
func startEmulatorLogging(t *testing.T, o emulatorOptions, out, logs io.Writer) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- runEmulator(ctx, o, out, slog.New(slog.NewTextHandler(logs, nil)), func(a string) { addrc <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("runEmulator: %v", err)
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case err := <-errc:
		t.Fatalf("runEmulator returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not start")
	}
	return ""
}

// The profile the banner prints, and the one --write-profile writes, open
// as a target and reach the running emulator: a sign-up starts and its
// passcode arrives through the outbox the profile names.
func TestEmulatorProfileOpens(t *testing.T) {
	var out syncBuffer
	path := filepath.Join(t.TempDir(), "local.yaml")
	addr := startEmulator(t, emulatorOptions{Addr: "127.0.0.1:0", ProfilePath: path}, &out)
	if !strings.Contains(out.String(), "--target "+path) {
		t.Errorf("banner does not say how to use the written profile:\n%s", out.String())
	}
	p, err := profile.Load(path)
	if err != nil {
		t.Fatalf("written profile: %v", err)
	}
	checkProfileReaches(t, p, addr)

	// Without --write-profile the profile is printed, indented.
	var printed syncBuffer
	addr2 := startEmulator(t, emulatorOptions{Addr: "127.0.0.1:0"}, &printed)
	_, yamlPart, ok := strings.Cut(printed.String(), "--target FILE`:\n\n")
	if !ok {
		t.Fatalf("no profile printed:\n%s", printed.String())
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(yamlPart, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	p2, err := profile.Parse([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatalf("printed profile: %v\n%s", err, yamlPart)
	}
	checkProfileReaches(t, p2, addr2)
}

func checkProfileReaches(t *testing.T, p *profile.Profile, addr string) {
	t.Helper()
	if p.Kind != profile.KindTenant || !strings.Contains(p.BaseURL, addr) || p.Expect == nil || !p.Capabilities.Backdoor {
		t.Fatalf("profile = %+v", p)
	}
	ctx := context.Background()
	tgt, err := profile.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if tgt.Caps.DisabledClientID == "" || tgt.Caps.ConfidentialClientID == "" || tgt.Backdoor == nil {
		t.Errorf("capabilities %+v, backdoor %v", tgt.Caps, tgt.Backdoor)
	}
	user := tgt.Users.New("profile")
	since := time.Now().Add(-time.Second)
	start, err := tgt.Client.SignUpStart(ctx, nativeauth.SignUpStartRequest{Username: user, ChallengeTypes: []nativeauth.ChallengeType{"oob", "password", "redirect"}})
	if err != nil {
		t.Fatalf("sign-up start through the profile: %v", err)
	}
	if start.Redirect != nil {
		t.Fatalf("redirect: %+v", start.Redirect)
	}
	if _, err := tgt.Client.SignUpChallenge(ctx, nativeauth.ChallengeRequest{ContinuationToken: start.ContinuationToken, ChallengeTypes: []nativeauth.ChallengeType{"oob", "password", "redirect"}}); err != nil {
		t.Fatalf("sign-up challenge: %v", err)
	}
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if code, err := tgt.OTP.Code(octx, user, since); err != nil || len(code.Reveal()) != 8 {
		t.Fatalf("passcode through the profile's outbox: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the emulator goroutine writing
// while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A dropped-connection fault leaves no answer, but it leaves a log line:
// every request the emulator received is logged once, the dropped ones with
// status 0 and their outcome.
func TestEmulatorLogsDroppedConnections(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(cfgPath, []byte("faults:\n  endpoints:\n    /oauth2/v2.0/token: {drop_rate: 0.5}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	addr := startEmulatorLogging(t, emulatorOptions{Addr: "127.0.0.1:0", ConfigPath: cfgPath}, io.Discard, &logs)
	// A fresh connection per request: Go's transport retries a request on
	// a reused connection that closes, which would blur the count.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	const n = 60
	dropped := 0
	for i := 0; i < n; i++ {
		res, err := hc.Post("http://"+addr+"/contoso.onmicrosoft.com/oauth2/v2.0/token",
			"application/x-www-form-urlencoded", strings.NewReader("grant_type=password"))
		if err != nil {
			dropped++
			continue
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	// A dropped request's line is written after its connection closed, so
	// the client may be told before the line exists: wait for it (the
	// server's shutdown does not wait for hijacked connections).
	var requests, droppedLogged int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		requests, droppedLogged = 0, 0
		for _, line := range strings.Split(logs.String(), "\n") {
			if !strings.Contains(line, "msg=request ") {
				continue
			}
			requests++
			if strings.Contains(line, `outcome="connection closed without an answer"`) && strings.Contains(line, "status=0 ") {
				droppedLogged++
			}
		}
		if requests >= n || time.Now().After(deadline) {
			break
		}
	}
	if requests != n {
		t.Errorf("request log lines: want %d, got %d", n, requests)
	}
	if dropped == 0 || dropped == n {
		t.Fatalf("dropped connections: want some of %d at drop_rate 0.5, got %d", n, dropped)
	}
	if droppedLogged != dropped {
		t.Errorf("log lines of dropped connections: want %d (the client's failures), got %d", dropped, droppedLogged)
	}
}

// Beyond loopback, the backdoor needs a token or an explicit
// --backdoor-unprotected; without either the emulator refuses before it
// listens, saying how to go on.
func TestEmulatorRefusesAnExposedBackdoor(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0"} {
		err := runEmulator(context.Background(), emulatorOptions{Addr: addr}, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if err == nil {
			t.Fatalf("%s: want a refusal, got none", addr)
		}
		for _, want := range []string{"backdoor would be open to the network", "--backdoor-token", backdoor.TokenEnv, "--backdoor-unprotected", "--no-backdoor"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: refusal %q does not say %q", addr, err, want)
			}
		}
	}
	err := runEmulator(context.Background(), emulatorOptions{Addr: "127.0.0.1:0", BackdoorToken: "too-short"}, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.Contains(err.Error(), "want at least 16") {
		t.Errorf("short token: want a refusal naming the minimum, got %v", err)
	}
}

// With a token the backdoor answers 401 without it or with another, 200
// with it; the profile the emulator writes names the variable, never the
// token, and reaches the outbox once the variable is set.
func TestEmulatorBackdoorToken(t *testing.T) {
	const token = "s3cret-backdoor-token-for-tests"
	var out syncBuffer
	path := filepath.Join(t.TempDir(), "shared.yaml")
	addr := startEmulator(t, emulatorOptions{Addr: "127.0.0.1:0", BackdoorToken: token, ProfilePath: path}, &out)
	if !strings.Contains(out.String(), "protected: send Authorization: Bearer $"+backdoor.TokenEnv) {
		t.Errorf("banner does not say the backdoor is protected:\n%s", out.String())
	}
	if strings.Contains(out.String(), token) {
		t.Errorf("banner shows the token:\n%s", out.String())
	}
	get := func(auth string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/emulator/v1/outbox?username=a@example.com", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, c := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer wrong-token-of-some-length", 401}, {"Bearer " + token, 200}} {
		if got := get(c.auth); got != c.want {
			t.Errorf("outbox with Authorization %q: want %d, got %d", c.auth, c.want, got)
		}
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(written), token) || !strings.Contains(string(written), "backdoor_token_env: "+backdoor.TokenEnv) {
		t.Fatalf("written profile: want the variable named and no token:\n%s", written)
	}
	p, err := profile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(backdoor.TokenEnv, "")
	if _, err := profile.Open(context.Background(), p); err == nil || !strings.Contains(err.Error(), backdoor.TokenEnv+" is not set") {
		t.Errorf("opening the profile without the variable: want an error naming it, got %v", err)
	}
	t.Setenv(backdoor.TokenEnv, token)
	checkProfileReaches(t, p, addr)
}
