package nativeauth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultMaxBodyBytes bounds a response body when Client.MaxBodyBytes is zero.
// The largest answer of the API (a token response with three JWTs) is a few
// KiB; a megabyte leaves room for big id_tokens and still stops a runaway
// server from exhausting memory under load.
const DefaultMaxBodyBytes int64 = 1 << 20

// Client calls the native authentication API of one tenant and one app. Its
// zero values are useful: only ClientID and Tenant (or BaseURL) must be set.
// A Client is safe for concurrent use once configured; do not change its
// fields while calls are in flight.
type Client struct {
	// Tenant is the tenant subdomain, e.g. "contoso".
	Tenant string
	// ClientID is the application (client) ID sent as client_id on every call.
	ClientID string
	// BaseURL overrides the default
	// "https://{Tenant}.ciamlogin.com/{Tenant}.onmicrosoft.com", e.g. to
	// reach the emulator or go through a proxy. Endpoint paths are appended.
	BaseURL string
	// HTTPClient defaults to a shared client with timeouts. Redirects are
	// never followed whatever its CheckRedirect says: the API answers 200,
	// 4xx or 5xx, and a 3xx is reported as a ProtocolError.
	HTTPClient *http.Client
	// MaxBodyBytes bounds every response body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// OnResponse, when set, is called once after every exchange, including
	// failed ones (HTTPStatus 0 when no answer arrived), with its timing.
	// It runs on the calling goroutine and must not keep or modify Body.
	OnResponse func(*Response)
}

// defaultHTTPClient is shared by every Client without its own, so that
// connections are pooled across clients of a load run.
var defaultHTTPClient = &http.Client{
	Timeout: 60 * time.Second,
	Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	},
}

type clientRequestIDKey struct{}

// WithClientRequestID returns a context whose calls send the header
// client-request-id: id, which the service echoes and logs for correlation.
func WithClientRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, clientRequestIDKey{}, id)
}

// ClientRequestID returns the id set by WithClientRequestID, if any.
func ClientRequestID(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(clientRequestIDKey{}).(string)
	return id, ok && id != ""
}

func (c *Client) baseURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return "https://" + c.Tenant + ".ciamlogin.com/" + c.Tenant + ".onmicrosoft.com"
}

// EndpointURL is the absolute URL of ep for this client.
func (c *Client) EndpointURL(ep Endpoint) string {
	return c.baseURL() + "/" + strings.TrimLeft(string(ep), "/")
}

func (c *Client) maxBody() int64 {
	if c.MaxBodyBytes > 0 {
		// One byte is read past the limit to detect an oversized body;
		// math.MaxInt64 ("no limit") would overflow that to a negative
		// read limit and every body would arrive empty.
		return min(c.MaxBodyBytes, math.MaxInt64-1)
	}
	return DefaultMaxBodyBytes
}

func (c *Client) httpClient() *http.Client {
	base := c.HTTPClient
	if base == nil {
		base = defaultHTTPClient
	}
	// A shallow copy shares the Transport (and so the connection pool); only
	// the redirect policy differs.
	hc := *base
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// Do POSTs form, exactly as given, to ep and returns the raw answer whatever
// its status. Unlike the typed methods it adds nothing to the form, not even
// client_id, so conformance checks can send missing or malformed parameters.
// The error is non-nil only when no complete answer arrived: the request
// could not be sent, the connection failed, ctx ended, or the body broke off
// or exceeded MaxBodyBytes (both a *ProtocolError). The Response, with its
// timing, is returned alongside such an error whenever the exchange got that
// far.
func (c *Client) Do(ctx context.Context, ep Endpoint, form url.Values) (*Response, error) {
	if c.BaseURL == "" && c.Tenant == "" {
		return nil, errors.New("nativeauth: client has neither BaseURL nor Tenant")
	}
	resp, err := c.roundTrip(ctx, ep, form)
	if c.OnResponse != nil && resp != nil {
		c.OnResponse(resp)
	}
	return resp, err
}

// roundTrip performs one exchange; it never returns a nil Response together
// with a nil error.
func (c *Client) roundTrip(ctx context.Context, ep Endpoint, form url.Values) (*Response, error) {
	u := c.EndpointURL(ep)
	tr := &tracer{}
	tr.t.Start = time.Now()
	ctx = httptrace.WithClientTrace(ctx, tr.clientTrace())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("nativeauth: %s: build request: %w", ep, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if id, ok := ClientRequestID(ctx); ok {
		req.Header.Set("client-request-id", id)
	}
	resp := &Response{Endpoint: ep}
	hres, err := c.httpClient().Do(req)
	if err != nil {
		resp.Timing = tr.done()
		return resp, fmt.Errorf("nativeauth: POST %s: %w", ep, err)
	}
	defer hres.Body.Close()
	resp.HTTPStatus = hres.StatusCode
	resp.Header = hres.Header
	limit := c.maxBody()
	body, err := io.ReadAll(io.LimitReader(hres.Body, limit+1))
	resp.Body = body
	resp.Timing = tr.done()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return resp, fmt.Errorf("nativeauth: %s: HTTP %d: reading body: %w", ep, hres.StatusCode, errors.Join(ctxErr, err))
		}
		// The answer began but broke off: the server sent a truncated body.
		return resp, newProtocolError(resp, "truncated body", err)
	}
	if int64(len(body)) > limit {
		resp.Body = body[:limit]
		return resp, newProtocolError(resp, fmt.Sprintf("body exceeds %d bytes", limit), nil)
	}
	return resp, nil
}

// tracer collects httptrace events. Dials can report from other goroutines
// (a dial may outlive a cancelled request), hence the mutex.
type tracer struct {
	mu sync.Mutex
	t  Timing
}

func (tr *tracer) set(f func(*Timing)) {
	tr.mu.Lock()
	f(&tr.t)
	tr.mu.Unlock()
}

func (tr *tracer) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			tr.set(func(t *Timing) { t.ReusedConn = info.Reused })
		},
		ConnectStart: func(string, string) {
			tr.set(func(t *Timing) {
				// Keep the first attempt: with several addresses the
				// connect phase spans all of them.
				if t.ConnectStart.IsZero() {
					t.ConnectStart = time.Now()
				}
			})
		},
		ConnectDone: func(string, string, error) {
			tr.set(func(t *Timing) { t.ConnectDone = time.Now() })
		},
		TLSHandshakeStart: func() { tr.set(func(t *Timing) { t.TLSStart = time.Now() }) },
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			tr.set(func(t *Timing) { t.TLSDone = time.Now() })
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			tr.set(func(t *Timing) { t.WroteRequest = time.Now() })
		},
		GotFirstResponseByte: func() { tr.set(func(t *Timing) { t.FirstByte = time.Now() }) },
	}
}

func (tr *tracer) done() Timing {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.t.Done = time.Now()
	return tr.t
}

// send is the typed methods' path: Do with client_id added.
func (c *Client) send(ctx context.Context, ep Endpoint, form url.Values) (*Response, error) {
	if c.ClientID == "" {
		return nil, fmt.Errorf("nativeauth: %s: client has no ClientID", ep)
	}
	form.Set(string(ParamClientID), c.ClientID)
	return c.Do(ctx, ep, form)
}
