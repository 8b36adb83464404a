package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/emulator/faults"
	"github.com/ciamcheck/ciamcheck/emulator/tokens"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// pathJWKS is served besides the flow endpoints and discovery.
const pathJWKS = "/discovery/v2.0/keys"

// janitorEvery is how often expired flows, refresh tokens and old outbox
// messages are reclaimed (real time; expiry itself follows the emulator
// clock).
const janitorEvery = 30 * time.Second

// maxIssuers bounds the per-base-URL issuer cache, since the base comes
// from the request's Host header.
const maxIssuers = 32

// tenant is the compiled, immutable form of a backdoor.Config.
type tenant struct {
	cfg        backdoor.Config
	apps       map[string]*backdoor.App // by lower-case client ID
	attrs      []compiledAttr
	attrByName map[string]*compiledAttr
	banned     []string // lower case
	// maxLiveFlows and otpMaxAttempts are the config's, read on every
	// start and oob check.
	maxLiveFlows   int64
	otpMaxAttempts int
}

type compiledAttr struct {
	backdoor.Attribute
	re   *regexp.Regexp
	spec nativeauth.AttributeSpec
}

func compileTenant(cfg backdoor.Config) (*tenant, error) {
	if err := validateConfig(cfg); err != nil {
		return nil, err
	}
	t := &tenant{cfg: cfg, apps: map[string]*backdoor.App{}, attrByName: map[string]*compiledAttr{},
		maxLiveFlows: cfg.MaxLiveFlows, otpMaxAttempts: cfg.OTP.MaxAttempts}
	for i := range cfg.Apps {
		t.apps[strings.ToLower(cfg.Apps[i].ClientID)] = &cfg.Apps[i]
	}
	t.attrs = make([]compiledAttr, len(cfg.Attributes))
	for i, a := range cfg.Attributes {
		typ := a.Type
		if typ == "" {
			typ = "string"
		}
		ca := compiledAttr{Attribute: a, spec: nativeauth.AttributeSpec{Name: a.Name, Type: typ, Required: a.Required}}
		if a.Regex != "" {
			ca.re = regexp.MustCompile(a.Regex) // Validate compiled it already
			ca.spec.Options = &nativeauth.AttributeOptions{Regex: a.Regex}
		}
		t.attrs[i] = ca
		t.attrByName[a.Name] = &t.attrs[i]
	}
	for _, w := range cfg.PasswordPolicy.BannedWords {
		t.banned = append(t.banned, strings.ToLower(strings.TrimSpace(w)))
	}
	return t, nil
}

// Emulator is an emulated External ID tenant: an http.Handler serving the
// native authentication endpoints, OIDC discovery and keys, and the
// backdoor. Safe for concurrent use.
type Emulator struct {
	initial  backdoor.Config
	routes   map[string]tenantRoute // by path under the tenant; read-only after New
	tenant   atomic.Pointer[tenant]
	data     atomic.Pointer[stateData]
	codec    ctCodec
	key      *rsa.PrivateKey
	clock    clock
	injector *faults.Injector
	log      *slog.Logger

	// backdoorToken is the SHA-256 of the backdoor's bearer token; nil:
	// no token required (ProtectBackdoor).
	backdoorToken atomic.Pointer[[sha256.Size]byte]

	issuersMu sync.Mutex
	issuers   map[string]*tokens.Issuer

	// sweepNow asks the janitor for a sweep before its next tick.
	sweepNow  chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New builds an emulator for cfg and starts its janitor; Close stops it.
func New(cfg backdoor.Config) (*Emulator, error) {
	t, err := compileTenant(cfg)
	if err != nil {
		return nil, fmt.Errorf("emulator config: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits(cfg.Tokens))
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	mac := make([]byte, 32)
	if _, err := rand.Read(mac); err != nil {
		return nil, fmt.Errorf("generate continuation token key: %w", err)
	}
	e := &Emulator{
		initial:  cfg,
		codec:    ctCodec{key: mac},
		key:      key,
		clock:    clock{wall: time.Now},
		injector: faults.NewInjector(cfg.Faults, time.Now().UnixNano()),
		log:      slog.Default().With("component", "emulator"),
		issuers:  map[string]*tokens.Issuer{},
		sweepNow: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	e.routes = e.routeTable()
	e.tenant.Store(t)
	d := newStateData()
	if err := e.seed(d, t); err != nil {
		return nil, err
	}
	e.data.Store(d)
	go e.janitor()
	return e, nil
}

// Close stops the janitor. The handler keeps answering afterwards.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		close(e.stop)
		<-e.done
	})
	return nil
}

// Config returns the tenant configuration in force.
func (e *Emulator) Config() backdoor.Config { return e.tenant.Load().cfg }

// SetLogger replaces the logger used for recovered panics and janitor runs.
func (e *Emulator) SetLogger(l *slog.Logger) {
	if l != nil {
		e.log = l.With("component", "emulator")
	}
}

// Now is the emulator clock.
func (e *Emulator) Now() time.Time { return e.clock.Now() }

func (e *Emulator) janitor() {
	defer close(e.done)
	t := time.NewTicker(janitorEvery)
	defer t.Stop()
	var last time.Time
	var pending <-chan time.Time // a requested sweep put off by minSweepGap
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		case <-e.sweepNow:
			// Asked for by refused starts: at most one extra sweep per
			// minSweepGap, however many are refused, and none lost.
			if wait := minSweepGap - time.Since(last); wait > 0 {
				if pending == nil {
					pending = time.After(wait)
				}
				continue
			}
		case <-pending:
		}
		pending = nil
		e.sweep()
		last = time.Now()
	}
}

// minSweepGap spaces the sweeps refused starts ask for.
const minSweepGap = time.Second

// requestSweep asks the janitor to sweep soon; it never blocks.
func (e *Emulator) requestSweep() {
	select {
	case e.sweepNow <- struct{}{}:
	default:
	}
}

// sweep reclaims expired state by the emulator clock.
func (e *Emulator) sweep() (flows, refresh int) {
	d := e.data.Load()
	now := e.clock.Now().UnixMilli()
	defer func() { d.liveFlows.Add(-int64(flows)) }()
	flows = d.flows.sweep(func(f *flow) bool {
		// TryLock: a handler holding f.mu may be waiting for this shard's
		// lock (finish removes the flow), so blocking here could deadlock.
		// A flow in use is not idle; the next sweep looks again.
		if !f.mu.TryLock() {
			return false
		}
		defer f.mu.Unlock()
		return f.done || f.expires < now
	})
	refresh = d.refresh.sweep(now)
	// Messages stay readable for one code lifetime past their expiry, so a
	// test can still fetch a code it deliberately let expire.
	keep := e.tenant.Load().cfg.OTP.Lifetime.D()
	d.outbox.sweep(e.clock.Now().Add(-keep))
	return flows, refresh
}

// seed creates the config's users in d.
func (e *Emulator) seed(d *stateData, t *tenant) error {
	for _, su := range t.cfg.Users {
		if _, err := e.createUser(d, su.Username, su.Password, su.Attributes); err != nil {
			return fmt.Errorf("seed user %s: %w", su.Username, err)
		}
		if err := d.setUserExtras(su.Username, su.Alias, su.StrongMethods); err != nil {
			return fmt.Errorf("seed user %s: %w", su.Username, err)
		}
	}
	return nil
}

var errUserExists = errors.New("user already exists")

// createUser adds an account; errUserExists when the username is taken.
func (e *Emulator) createUser(d *stateData, username, password string, attrs map[string]string) (*user, error) {
	u := &user{username: username, objectID: uuid.NewString(), attributes: map[string]string{}}
	for k, v := range attrs {
		u.attributes[k] = v
	}
	if _, err := rand.Read(u.salt[:]); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	if password != "" {
		u.hash, u.hasPassword = hashPassword(u.salt[:], password), true
	}
	if !d.users.putIfAbsent(normalizeUsername(username), u) {
		return nil, errUserExists
	}
	return u, nil
}

// userSnapshot copies the fields a request needs without holding a lock.
func (d *stateData) userSnapshot(key string) (user, bool) {
	sh := d.users.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	u, ok := sh.m[key]
	if !ok {
		return user{}, false
	}
	return *u, true
}

// issuerFor returns the token issuer for a base URL, sharing one key.
func (e *Emulator) issuerFor(base string) (*tokens.Issuer, error) {
	e.issuersMu.Lock()
	defer e.issuersMu.Unlock()
	if is, ok := e.issuers[base]; ok {
		return is, nil
	}
	is, err := tokens.NewIssuer(base+"/v2.0", e.key)
	if err != nil {
		return nil, fmt.Errorf("token issuer for %s: %w", base, err)
	}
	if len(e.issuers) < maxIssuers {
		e.issuers[base] = is
	}
	return is, nil
}

// baseURL is the tenant base URL as the client sees it.
func (e *Emulator) baseURL(r *http.Request, t *tenant) string {
	if t.cfg.BaseURL != "" {
		return strings.TrimRight(t.cfg.BaseURL, "/") + "/" + t.cfg.Tenant + ".onmicrosoft.com"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" || strings.ContainsAny(host, "/\\ \"<>") || len(host) > 255 {
		host = "localhost"
	}
	return scheme + "://" + host + "/" + t.cfg.Tenant + ".onmicrosoft.com"
}

// reqCtx carries per-request values through a handler.
type reqCtx struct {
	e             *Emulator
	t             *tenant
	d             *stateData
	w             http.ResponseWriter
	r             *http.Request
	f             form
	now           time.Time
	traceID       string
	correlationID string
	app           *backdoor.App
}

// ServeHTTP routes tenant endpoints, discovery and the backdoor.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	traceID := uuid.NewString()
	w.Header().Set("x-ms-request-id", traceID)
	rc := &reqCtx{e: e, t: e.tenant.Load(), d: e.data.Load(), w: w, r: r, now: e.clock.Now(), traceID: traceID}
	// Both IDs on every answer: MSAL JS sends x-ms-request-id back as the
	// next client-request-id, and MSAL iOS reads a client-request-id
	// response header as a UUID (client-facts.md). A request without a
	// usable one gets a fresh UUID.
	rc.correlationID = faults.ClientRequestID(r)
	if rc.correlationID == "" {
		rc.correlationID = uuid.NewString()
	}
	w.Header().Set("client-request-id", rc.correlationID)
	defer func() {
		// Last resort only: no input is meant to reach this (FuzzHandler
		// checks), but a bug must not take the server down.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			e.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			rc.fail(&apiError{status: http.StatusInternalServerError, Error: nativeauth.ErrInvalidRequest,
				Code: codeInternal, Message: "An internal error occurred."})
		}
	}()

	p := r.URL.Path
	if strings.HasPrefix(p, backdoor.Prefix) {
		if rc.t.cfg.Backdoor.Disabled {
			rc.fail(&apiError{status: http.StatusNotFound, Error: nativeauth.ErrInvalidRequest, Code: codeNotFound,
				Message: "The backdoor is disabled."})
			return
		}
		if !rc.backdoorAuthorized() {
			return
		}
		e.serveBackdoor(rc, strings.TrimPrefix(p, backdoor.Prefix))
		return
	}
	endpoint, ok := tenantPath(rc.t, p)
	if !ok {
		rc.notFound()
		return
	}
	rt, ok := e.routes[endpoint]
	if !ok {
		rc.notFound()
		return
	}
	if !slices.Contains(rt.methods, r.Method) {
		rc.refuseMethod(rt.methods, fmt.Sprintf("The method %s is not allowed on this endpoint.", sanitizeEcho(r.Method)))
		return
	}
	handler := rt.handler
	e.injector.Wrap(endpoint, w, r, func(w http.ResponseWriter, r *http.Request) {
		rc.w, rc.r = w, r
		handler(rc)
	})
}

// tenantPath strips "/{tenant}.onmicrosoft.com" (or "/{tenant ID}") and
// returns the endpoint path below it.
func tenantPath(t *tenant, p string) (string, bool) {
	if len(p) < 2 || p[0] != '/' {
		return "", false
	}
	rest := p[1:]
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return "", false
	}
	seg := rest[:i]
	if !strings.EqualFold(seg, t.cfg.Tenant+".onmicrosoft.com") && !strings.EqualFold(seg, t.cfg.TenantID) {
		return "", false
	}
	return rest[i:], true
}

var (
	postOnly = []string{http.MethodPost}
	getOnly  = []string{http.MethodGet, http.MethodHead}
)

// refuseMethod answers a request whose method is not one of methods: 405
// with msg and the Allow header.
func (rc *reqCtx) refuseMethod(methods []string, msg string) {
	rc.w.Header().Set("Allow", strings.Join(methods, ", "))
	rc.fail(&apiError{status: http.StatusMethodNotAllowed, Error: nativeauth.ErrInvalidRequest,
		Code: codeMethodNotAllowed, Message: msg})
}

// tenantRoute is a tenant endpoint's handler and the methods it takes.
type tenantRoute struct {
	handler func(*reqCtx)
	methods []string
}

// routeTable is route for every path the tenant serves, built once: the
// handlers and their step lists would otherwise be made again for every
// request.
func (e *Emulator) routeTable() map[string]tenantRoute {
	paths := []string{string(nativeauth.EndpointOpenIDConfiguration), pathJWKS}
	for _, ep := range slices.Concat(nativeauth.Endpoints, nativeauth.StrongAuthEndpoints) {
		paths = append(paths, string(ep))
	}
	routes := make(map[string]tenantRoute, len(paths))
	for _, p := range paths {
		if h, m := e.route(p); h != nil {
			routes[p] = tenantRoute{h, m}
		}
	}
	return routes
}

func (e *Emulator) route(endpoint string) (func(*reqCtx), []string) {
	switch nativeauth.Endpoint(endpoint) {
	case nativeauth.EndpointSignUpStart:
		return e.signUpStart, postOnly
	case nativeauth.EndpointSignUpChallenge:
		return flowCall{kind: kindSignUp, badErr: nativeauth.ErrInvalidGrant, serve: (*reqCtx).signUpChallenge,
			steps: []step{stepSignUpStarted, stepSignUpOOBSent, stepSignUpNeedCredential, stepSignUpPasswordChallenged}}.handle, postOnly
	case nativeauth.EndpointSignUpContinue:
		return flowCall{kind: kindSignUp, badErr: nativeauth.ErrInvalidRequest, serve: (*reqCtx).signUpContinue}.handle, postOnly
	case nativeauth.EndpointSignInInitiate:
		return e.signInInitiate, postOnly
	case nativeauth.EndpointSignInChallenge:
		return e.signInChallenge, postOnly
	case nativeauth.EndpointToken:
		return e.token, postOnly
	case nativeauth.EndpointResetStart:
		return e.resetStart, postOnly
	case nativeauth.EndpointResetChallenge:
		return flowCall{kind: kindReset, badErr: nativeauth.ErrInvalidRequest, serve: (*reqCtx).resetChallenge,
			steps: []step{stepResetStarted, stepResetOOBSent}}.handle, postOnly
	case nativeauth.EndpointResetContinue:
		return flowCall{kind: kindReset, badErr: nativeauth.ErrInvalidRequest, serve: (*reqCtx).resetContinue,
			refuse: (*reqCtx).ssprDisabled}.handle, postOnly
	case nativeauth.EndpointResetSubmit:
		return flowCall{kind: kindReset, badErr: nativeauth.ErrInvalidRequest, serve: (*reqCtx).resetSubmit,
			steps: []step{stepResetVerified}}.handle, postOnly
	case nativeauth.EndpointResetPollCompletion:
		return flowCall{kind: kindReset, badErr: nativeauth.ErrInvalidRequest, serve: (*reqCtx).resetPoll,
			steps: []step{stepResetPolling}}.handle, postOnly
	case nativeauth.EndpointSignInIntrospect:
		return flowCall{badErr: nativeauth.ErrInvalidRequest, serve: (*reqCtx).signInIntrospect,
			steps: []step{stepMFARequired, stepMFAIntrospected, stepMFAOOBSent}}.handle, postOnly
	case nativeauth.EndpointRegisterIntrospect:
		return flowCall{badErr: nativeauth.ErrInvalidRequest, serve: (*reqCtx).registerIntrospect,
			steps: []step{stepRegRequired, stepRegIntrospected, stepRegOOBSent, stepRegPreverified}}.handle, postOnly
	case nativeauth.EndpointRegisterChallenge:
		return flowCall{badErr: nativeauth.ErrInvalidRequest, serve: (*reqCtx).registerChallenge,
			steps: []step{stepRegIntrospected, stepRegOOBSent}}.handle, postOnly
	case nativeauth.EndpointRegisterContinue:
		return flowCall{badErr: nativeauth.ErrInvalidRequest, serve: (*reqCtx).registerContinue,
			steps: []step{stepRegOOBSent, stepRegPreverified}}.handle, postOnly
	case nativeauth.EndpointOpenIDConfiguration:
		return e.discovery, getOnly
	case pathJWKS:
		return e.jwks, getOnly
	}
	return nil, nil
}

// writeJSON answers with a JSON body.
func (rc *reqCtx) writeJSON(status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		rc.e.log.Error("encode response", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":"invalid_request"}`)
	}
	h := rc.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	rc.w.WriteHeader(status)
	_, _ = rc.w.Write(b)
}

// fail answers with the error body.
func (rc *reqCtx) fail(ae *apiError) {
	if ae.retryAfter != "" {
		rc.w.Header().Set("Retry-After", ae.retryAfter)
	}
	rc.writeJSON(ae.httpStatus(), ae.body(rc.now, rc.traceID, rc.correlationID))
}

func (rc *reqCtx) notFound() {
	rc.fail(&apiError{status: http.StatusNotFound, Error: nativeauth.ErrInvalidRequest, Code: codeNotFound,
		Message: "The requested path does not exist."})
}

// redirectBody is the 200 answer telling the app to fall back to a browser.
type redirectBody struct {
	ChallengeType  nativeauth.ChallengeType `json:"challenge_type"`
	RedirectReason string                   `json:"redirect_reason,omitempty"`
}

func (rc *reqCtx) redirect(reason string) {
	rc.writeJSON(http.StatusOK, redirectBody{ChallengeType: nativeauth.ChallengeTypeRedirect, RedirectReason: reason})
}

// parse reads the form and checks the client: the common first half of
// every flow endpoint.
func (rc *reqCtx) parse() bool {
	f, ae := parseForm(rc.r)
	if ae != nil {
		rc.fail(ae)
		return false
	}
	rc.f = f
	app, ae := rc.t.checkClient(f.get(nativeauth.ParamClientID))
	if ae != nil {
		rc.fail(ae)
		return false
	}
	rc.app = app
	return true
}

// checkClient applies the pages' client rules, in their order of
// specificity: missing or malformed (invalid_request), unknown
// (unauthorized_client), confidential (invalid_client), native
// authentication off (invalid_client/nativeauthapi_disabled).
func (t *tenant) checkClient(id string) (*backdoor.App, *apiError) {
	if id == "" {
		return nil, errMissing(nativeauth.ParamClientID)
	}
	if !isGUID(id) {
		return nil, newErr(nativeauth.ErrInvalidRequest, codeInvalidClientID,
			fmt.Sprintf("Client app ID '%s' is not a valid application identifier.", sanitizeEcho(id)))
	}
	app, ok := t.apps[strings.ToLower(id)]
	if !ok {
		return nil, newErr(nativeauth.ErrUnauthorizedClient, codeUnknownClient,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", id, t.cfg.Tenant))
	}
	if !app.PublicClient {
		return nil, newErr(nativeauth.ErrInvalidClient, codeConfidentialClient,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'. Native authentication is for public clients only.")
	}
	if !app.NativeAuth {
		ae := newErr(nativeauth.ErrInvalidClient, codeNativeAuthDisabled,
			"The application is not enabled for native authentication.")
		ae.Suberror = nativeauth.SuberrorNativeAuthAPIDisabled
		return nil, ae
	}
	return app, nil
}

func (e *Emulator) discovery(rc *reqCtx) {
	base := e.baseURL(rc.r, rc.t)
	is, err := e.issuerFor(base)
	if err == nil {
		var b []byte
		if b, err = is.Discovery(base); err == nil {
			rc.writeRaw(b)
			return
		}
	}
	e.log.Error("discovery document", "err", err)
	rc.fail(&apiError{status: http.StatusInternalServerError, Error: nativeauth.ErrInvalidRequest, Code: codeInternal,
		Message: "The discovery document could not be built."})
}

func (e *Emulator) jwks(rc *reqCtx) {
	is, err := e.issuerFor(e.baseURL(rc.r, rc.t))
	if err == nil {
		var b []byte
		if b, err = is.JWKS(); err == nil {
			rc.writeRaw(b)
			return
		}
	}
	e.log.Error("jwks document", "err", err)
	rc.fail(&apiError{status: http.StatusInternalServerError, Error: nativeauth.ErrInvalidRequest, Code: codeInternal,
		Message: "The key set could not be built."})
}

func (rc *reqCtx) writeRaw(b []byte) {
	rc.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	rc.w.WriteHeader(http.StatusOK)
	if rc.r.Method != http.MethodHead {
		_, _ = rc.w.Write(b)
	}
}
