package conformance

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWrapTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, r.URL.Path+"|"+string(body))
	}))
	defer srv.Close()
	var sawPath string
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sawPath = r.URL.Path
			w.Header().Set("X-Wrapped", "1")
			// A path-only request, as a backdoor lookup makes, reaches the host.
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/side", nil))
			if !strings.HasPrefix(rec.Body.String(), "/side|") {
				t.Errorf("path-only request answered %q", rec.Body.String())
			}
			next.ServeHTTP(w, r)
		})
	}
	client := &http.Client{Transport: WrapTransport(srv.Client().Transport, srv.URL, mw)}
	resp, err := client.Post(srv.URL+"/a/b", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTeapot || string(body) != "/a/b|hello" || resp.Header.Get("X-Wrapped") != "1" || sawPath != "/a/b" {
		t.Errorf("got %d %q headers %v path %q", resp.StatusCode, body, resp.Header, sawPath)
	}
}
