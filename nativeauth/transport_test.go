package nativeauth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestClassifyTransport provokes each failure for real, on loopback, and
// checks the class the load record will carry.
func TestClassifyTransport(t *testing.T) {
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release) // before Close, which waits for handlers
	hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	}))
	defer hangup.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	untrusted := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer untrusted.Close()
	// The lookup goes to a name server on loopback that answers NXDOMAIN:
	// the machine's resolver lost a packet now and then, and its 5 s retry
	// turned the case into a timeout.
	nxdomain := nxdomainResolver(t)

	// Only the timeout case's deadline is short: every other case ends as
	// soon as its failure happens, and a deadline it could reach on a busy
	// machine (a TLS handshake under -race took over 1 s) would make it a
	// timeout instead.
	const never = time.Minute
	cases := []struct {
		name, url string
		timeout   time.Duration
		resolver  *net.Resolver
		want      TransportClass
	}{
		{"connection refused", closed, never, nil, TransportRefused},
		{"no such host", "http://ciamcheck-no-such-host.invalid", never, nxdomain, TransportDNS},
		{"no answer in time", hang.URL, 50 * time.Millisecond, nil, TransportTimeout},
		{"closed without an answer", hangup.URL, never, nil, TransportReset},
		{"https to a plain server", strings.Replace(plain.URL, "http://", "https://", 1), never, nil, TransportTLS},
		{"untrusted certificate", untrusted.URL, never, nil, TransportTLS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hc := &http.Client{Timeout: tc.timeout}
			if tc.resolver != nil {
				tr := http.DefaultTransport.(*http.Transport).Clone()
				tr.DialContext = (&net.Dialer{Resolver: tc.resolver}).DialContext
				defer tr.CloseIdleConnections()
				hc.Transport = tr
			}
			c := &Client{Tenant: "contoso", ClientID: "c", BaseURL: tc.url, HTTPClient: hc}
			_, err := c.SignInInitiate(context.Background(), InitiateRequest{Username: "u@example.com"})
			if err == nil {
				t.Fatal("no error")
			}
			if got := ClassifyTransport(err); got != tc.want {
				t.Errorf("class %q, want %q, for %v", got, tc.want, err)
			}
		})
	}
	if got := ClassifyTransport(errors.New("something else")); got != TransportOther {
		t.Errorf("plain error: %q", got)
	}
	if got := ClassifyTransport(nil); got != "" {
		t.Errorf("nil: %q", got)
	}
}

// nxdomainResolver is a resolver whose name server, on loopback, answers
// every query "no such name" (RCODE 3), so a DNS failure is provoked without
// the machine's resolver.
func nxdomainResolver(t *testing.T) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			// Header (12 bytes), then the question: labels up to the root's
			// zero, then type and class (4 bytes).
			end := 12
			for end < n && buf[end] != 0 {
				end += int(buf[end]) + 1
			}
			end += 5
			if end > n {
				continue
			}
			answer := append([]byte(nil), buf[:end]...)
			answer[2] = 0x80 | answer[2]&0x01 // QR, RD as asked
			answer[3] = 0x80 | 3              // RA, NXDOMAIN
			clear(answer[6:12])               // no answer, authority or additional records
			_, _ = pc.WriteTo(answer, from)
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}
