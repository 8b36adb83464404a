package emulator

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

const testBackdoorToken = "0123456789abcdef-test-token"

func tcp(s string) *net.TCPAddr {
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		panic(err)
	}
	return a
}

type otherAddr string

func (a otherAddr) Network() string { return "other" }
func (a otherAddr) String() string  { return string(a) }

func TestDecideBackdoorAccess(t *testing.T) {
	cases := []struct {
		name        string
		listen      net.Addr
		disabled    bool
		token       string
		unprotected bool
		want        BackdoorAccess
		wantErr     string
		exposed     bool
	}{
		{name: "loopback v4", listen: tcp("127.0.0.1:8080"), want: BackdoorLoopback},
		{name: "loopback v6", listen: tcp("[::1]:8080"), want: BackdoorLoopback},
		{name: "loopback 127.0.0.2", listen: tcp("127.0.0.2:0"), want: BackdoorLoopback},
		{name: "every interface v4", listen: tcp("0.0.0.0:8080"), exposed: true, wantErr: "open to the network at 0.0.0.0:8080"},
		{name: "every interface v6", listen: tcp("[::]:8080"), exposed: true, wantErr: "open to the network"},
		{name: "no host", listen: tcp(":8080"), exposed: true, wantErr: "open to the network"},
		{name: "one external address", listen: tcp("192.0.2.7:8080"), exposed: true, wantErr: "reads one-time passcodes"},
		{name: "not TCP, unparsable", listen: otherAddr("/tmp/sock"), exposed: true, wantErr: "open to the network"},
		{name: "not TCP, loopback text", listen: otherAddr("127.0.0.1:1"), want: BackdoorLoopback},
		{name: "nil address", listen: nil, exposed: true, wantErr: "open to the network"},
		{name: "unprotected, asked", listen: tcp("0.0.0.0:8080"), unprotected: true, want: BackdoorUnprotected},
		{name: "token beyond loopback", listen: tcp("0.0.0.0:8080"), token: testBackdoorToken, want: BackdoorToken},
		{name: "token on loopback too", listen: tcp("127.0.0.1:8080"), token: testBackdoorToken, want: BackdoorToken},
		{name: "short token", listen: tcp("0.0.0.0:8080"), token: "short", wantErr: "5 characters; want at least 16"},
		{name: "token and unprotected", listen: tcp("0.0.0.0:8080"), token: testBackdoorToken, unprotected: true, wantErr: "choose one"},
		{name: "disabled beyond loopback", listen: tcp("0.0.0.0:8080"), disabled: true, want: BackdoorOff},
		{name: "disabled wins over a token", listen: tcp("0.0.0.0:8080"), disabled: true, token: "short", want: BackdoorOff},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecideBackdoorAccess(c.listen, c.disabled, c.token, c.unprotected)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error: want one saying %q, got %v (access %d)", c.wantErr, err, got)
				}
				if errors.Is(err, ErrBackdoorExposed) != c.exposed {
					t.Errorf("errors.Is(ErrBackdoorExposed): want %v, got %v", c.exposed, !c.exposed)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("access: want %d, got %d (%v)", c.want, got, err)
			}
		})
	}
}

func TestServedHost(t *testing.T) {
	for _, s := range []string{"127.0.0.1:8080", "[::1]:8080", "192.0.2.7:443"} {
		if got := ServedHost(tcp(s)); got != s {
			t.Errorf("ServedHost(%s): want it unchanged, got %s", s, got)
		}
	}
	for _, s := range []string{"0.0.0.0:8080", "[::]:8080", ":8080"} {
		got := ServedHost(tcp(s))
		host, port, err := net.SplitHostPort(got)
		ip := net.ParseIP(host)
		if err != nil || port != "8080" || ip == nil || ip.IsUnspecified() {
			t.Errorf("ServedHost(%s): want a dialable IP with port 8080, got %q", s, got)
		}
	}
	if got := ServedHost(otherAddr("x")); got != "x" {
		t.Errorf("ServedHost(non-TCP): want its text, got %q", got)
	}
}

func TestBackdoorToken(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.e.ProtectBackdoor("short"); err == nil {
		t.Fatal("ProtectBackdoor(short): want an error")
	}
	if err := h.e.ProtectBackdoor(testBackdoorToken); err != nil {
		t.Fatal(err)
	}
	call := func(auth string) resp {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, h.srv.URL+"/emulator/v1/clock", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return h.do(req)
	}
	for _, c := range []struct {
		name, auth, challenge string
	}{
		{"no token", "", `Bearer realm="ciamcheck emulator backdoor"`},
		{"wrong token", "Bearer " + testBackdoorToken + "x", `error="invalid_token"`},
		{"prefix of the token", "Bearer " + testBackdoorToken[:16], `error="invalid_token"`},
		{"basic scheme", "Basic " + testBackdoorToken, "Bearer realm"},
		{"scheme only", "Bearer", "Bearer realm"},
		{"empty token", "Bearer ", "Bearer realm"},
	} {
		r := call(c.auth)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: status: want 401, got %d %s", c.name, r.status, r.raw)
			continue
		}
		if r.str("error") != string(errBackdoorToken) || r.code() != codeBackdoorUnauthorized || r.str("trace_id") == "" {
			t.Errorf("%s: body: want the error shape with invalid_token and %d, got %s", c.name, codeBackdoorUnauthorized, r.raw)
		}
		if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, c.challenge) {
			t.Errorf("%s: WWW-Authenticate: want %q in it, got %q", c.name, c.challenge, got)
		}
		if strings.Contains(string(r.raw), testBackdoorToken) {
			t.Errorf("%s: the answer echoes the token", c.name)
		}
	}
	for _, auth := range []string{"Bearer " + testBackdoorToken, "bearer " + testBackdoorToken} {
		if r := call(auth); r.status != http.StatusOK || r.str("now") == "" {
			t.Errorf("%q: want 200 with the clock, got %d %s", auth, r.status, r.raw)
		}
	}
	// The tenant endpoints never need it, and reset keeps it.
	disc, err := http.NewRequest(http.MethodGet, h.base+"/v2.0/.well-known/openid-configuration", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.do(disc); r.status != http.StatusOK {
		t.Errorf("discovery without a token: want 200, got %d", r.status)
	}
	if r := h.post(nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "nobody@example.com", "challenge_type", "password redirect")); r.status != http.StatusBadRequest || r.str("error") != string(nativeauth.ErrUserNotFound) {
		t.Errorf("initiate without a token: want 400 user_not_found, got %d %s", r.status, r.raw)
	}
	h.e.Reset()
	if r := call(""); r.status != http.StatusUnauthorized {
		t.Errorf("after reset, no token: want 401, got %d", r.status)
	}
	// The config the backdoor shows does not carry the token.
	if r := call("Bearer " + testBackdoorToken); r.status != http.StatusOK {
		t.Fatalf("after reset, token: want 200, got %d", r.status)
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/emulator/v1/config", nil)
	req.Header.Set("Authorization", "Bearer "+testBackdoorToken)
	if r := h.do(req); r.status != http.StatusOK || strings.Contains(string(r.raw), testBackdoorToken) {
		t.Errorf("config: want 200 without the token in it, got %d", r.status)
	}
	if err := h.e.ProtectBackdoor(""); err != nil {
		t.Fatal(err)
	}
	if r := call(""); r.status != http.StatusOK {
		t.Errorf("protection removed: want 200, got %d", r.status)
	}
}
