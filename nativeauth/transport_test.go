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

	cases := []struct {
		name, url string
		timeout   time.Duration
		want      TransportClass
	}{
		{"connection refused", closed, time.Second, TransportRefused},
		{"no such host", "http://ciamcheck-no-such-host.invalid", 5 * time.Second, TransportDNS},
		{"no answer in time", hang.URL, 50 * time.Millisecond, TransportTimeout},
		{"closed without an answer", hangup.URL, time.Second, TransportReset},
		{"https to a plain server", strings.Replace(plain.URL, "http://", "https://", 1), time.Second, TransportTLS},
		{"untrusted certificate", untrusted.URL, time.Second, TransportTLS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{Tenant: "contoso", ClientID: "c", BaseURL: tc.url, HTTPClient: &http.Client{Timeout: tc.timeout}}
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
