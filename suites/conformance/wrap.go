package conformance

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
)

// handlerTransport serves every request through a handler chain whose
// innermost handler sends the request on to the real target. It lets a
// middleware written for the server side (the deliberate deviations the
// project's tests use) sit in front of any target, embedded or remote,
// without the target knowing.
type handlerTransport struct{ h http.Handler }

// WrapTransport returns a RoundTripper that passes each request through
// wrap(proxy to next). Requests a middleware makes with a path only (such
// as a backdoor lookup) go to host.
func WrapTransport(next http.RoundTripper, host string, wrap func(http.Handler) http.Handler) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	hostURL, _ := url.Parse(host)
	proxy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.Clone(r.Context())
		out.RequestURI = ""
		if out.URL.Host == "" && hostURL != nil {
			out.URL.Scheme, out.URL.Host = hostURL.Scheme, hostURL.Host
		}
		resp, err := next.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
	return handlerTransport{h: wrap(proxy)}
}

// RoundTrip serves req through the handler chain into a buffer.
func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	w := &bufferedWriter{header: http.Header{}}
	t.h.ServeHTTP(w, req)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status:        http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// bufferedWriter is a minimal http.ResponseWriter that keeps the answer.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
