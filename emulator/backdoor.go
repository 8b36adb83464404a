package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// The backdoor is the test-only API under /emulator/v1/: read sent codes,
// move the clock, reset, manage users, config and faults. Its errors use
// the same JSON error body as the tenant endpoints.

func badBackdoor(status int, msg string) *apiError {
	return &apiError{status: status, Error: nativeauth.ErrInvalidRequest, Code: codeMalformedRequest, Message: msg}
}

// readJSON decodes a bounded JSON body into v, refusing unknown fields;
// a body it refuses is answered, and it reports false.
func (rc *reqCtx) readJSON(v any) bool {
	if ae := decodeJSON(rc.r, v); ae != nil {
		rc.fail(ae)
		return false
	}
	return true
}

func decodeJSON(r *http.Request, v any) *apiError {
	if r.Body == nil {
		return badBackdoor(http.StatusBadRequest, "A JSON body is required.")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badBackdoor(http.StatusBadRequest, "The body is not valid JSON for this call: "+sanitizeEcho(err.Error()))
	}
	// One value only: `{"advance":"1h"} {"advance":"9h"}` is a client bug
	// that taking the first value would hide.
	if _, err := dec.Token(); err != io.EOF {
		return badBackdoor(http.StatusBadRequest, "The body is not valid JSON for this call: data after the JSON value.")
	}
	return nil
}

// backdoorRoute is one backdoor call: the methods it answers and what
// serves it. A call on one user (users/{username} then suffix) has
// serveUser, given the username from the path.
type backdoorRoute struct {
	methods   []string
	serve     func(*Emulator, *reqCtx)
	serveUser func(*Emulator, *reqCtx, string)
	suffix    string
}

// The keys of the calls on one user in backdoorRoutes.
const (
	bdUserKey              = backdoor.PathUsers + "/{username}"
	bdUserStrongMethodsKey = bdUserKey + "/" + backdoor.PathStrongMethods
)

var backdoorRoutes = map[string]backdoorRoute{
	backdoor.PathOutbox:    {methods: []string{http.MethodGet}, serve: (*Emulator).bdOutbox},
	backdoor.PathClock:     {methods: []string{http.MethodGet, http.MethodPost}, serve: (*Emulator).bdClock},
	backdoor.PathReset:     {methods: []string{http.MethodPost}, serve: (*Emulator).bdReset},
	backdoor.PathUsers:     {methods: []string{http.MethodPost}, serve: (*Emulator).bdCreateUser},
	bdUserKey:              {methods: []string{http.MethodGet}, serveUser: (*Emulator).bdGetUser},
	bdUserStrongMethodsKey: {methods: []string{http.MethodPut}, serveUser: (*Emulator).bdSetStrongMethods, suffix: "/" + backdoor.PathStrongMethods},
	backdoor.PathConfig:    {methods: []string{http.MethodGet, http.MethodPut}, serve: (*Emulator).bdConfig},
	backdoor.PathFaults:    {methods: []string{http.MethodGet, http.MethodPut}, serve: (*Emulator).bdFaults},
	backdoor.PathStats:     {methods: []string{http.MethodGet}, serve: (*Emulator).bdStats},
}

// backdoorRouteKey is the key in backdoorRoutes of the path p below
// backdoor.Prefix: p itself, or the pattern of a call on one user.
func backdoorRouteKey(p string) string {
	if !strings.HasPrefix(p, backdoor.PathUsers+"/") {
		return p
	}
	if strings.HasSuffix(p, "/"+backdoor.PathStrongMethods) {
		return bdUserStrongMethodsKey
	}
	return bdUserKey
}

func (e *Emulator) serveBackdoor(rc *reqCtx, p string) {
	route, ok := backdoorRoutes[backdoorRouteKey(p)]
	if !ok {
		rc.notFound()
		return
	}
	if !slices.Contains(route.methods, rc.r.Method) {
		rc.refuseMethod(route.methods, "Method not allowed.")
		return
	}
	if route.serveUser == nil {
		route.serve(e, rc)
		return
	}
	if name, ok := rc.pathUsername(p, route.suffix); ok {
		route.serveUser(e, rc, name)
	}
}

func (e *Emulator) bdOutbox(rc *reqCtx) {
	u := rc.r.URL.Query().Get("username")
	if u == "" {
		rc.fail(badBackdoor(http.StatusBadRequest, "The username query parameter is required."))
		return
	}
	msgs := rc.d.outbox.messages(normalizeUsername(u))
	out := backdoor.Outbox{Username: u, Messages: msgs}
	rc.writeJSON(http.StatusOK, out.Revealed())
}

func (e *Emulator) bdClock(rc *reqCtx) {
	if rc.r.Method == http.MethodPost {
		var in backdoor.ClockAdvance
		if !rc.readJSON(&in) {
			return
		}
		d, err := time.ParseDuration(in.Advance)
		if err != nil || d < 0 {
			rc.fail(badBackdoor(http.StatusBadRequest, "advance must be a non-negative Go duration such as \"10m1s\"."))
			return
		}
		if !e.clock.Advance(d) {
			rc.fail(badBackdoor(http.StatusBadRequest, fmt.Sprintf("advance would move the clock more than %v past the wall clock; reset it first.", maxClockOffset)))
			return
		}
	}
	rc.writeJSON(http.StatusOK, backdoor.Clock{Now: e.clock.Now(), Offset: e.clock.Offset().String()})
}

// Reset puts users, flows, outbox, refresh tokens, clock offset, faults
// and tenant settings back to the config the emulator was created with.
func (e *Emulator) Reset() {
	t, err := compileTenant(e.initial)
	if err != nil { // validated in New; cannot happen
		e.log.Error("reset: initial config no longer valid", "err", err)
		return
	}
	d := newStateData()
	if err := e.seed(d, t); err != nil {
		e.log.Error("reset: seed users", "err", err)
	}
	old := e.data.Swap(d)
	e.tenant.Store(t)
	e.clock.Reset()
	if err := e.injector.Set(t.cfg.Faults); err != nil {
		e.log.Error("reset: faults", "err", err)
	}
	// Tokens of the old state must die even if a request still holds a
	// flow pointer from it. TryLock for the same reason as in sweep: a
	// flow busy now belongs to a request that began before the reset.
	old.flows.sweep(func(f *flow) bool {
		if f.mu.TryLock() {
			f.done = true
			f.mu.Unlock()
		}
		return true
	})
}

func (e *Emulator) bdReset(rc *reqCtx) {
	e.Reset()
	rc.w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) bdCreateUser(rc *reqCtx) {
	var in backdoor.NewUser
	if !rc.readJSON(&in) {
		return
	}
	if !validUsername(in.Username) {
		rc.fail(badBackdoor(http.StatusBadRequest, "username must be an email address."))
		return
	}
	if in.Alias != "" && !aliasRE.MatchString(in.Alias) {
		rc.fail(badBackdoor(http.StatusBadRequest, "alias must be letters, digits, '.', '_' or '-', not an email address."))
		return
	}
	if err := validStrongMethods(in.StrongMethods); err != nil {
		rc.fail(badBackdoor(http.StatusBadRequest, err.Error()))
		return
	}
	if in.Alias != "" {
		if _, taken := rc.d.aliases.get(strings.ToLower(in.Alias)); taken {
			rc.fail(&apiError{status: http.StatusConflict, Error: nativeauth.ErrUserAlreadyExists,
				Code: nativeauth.CodeUserAlreadyExists, Message: "The alias is taken."})
			return
		}
	}
	u, err := e.createUser(rc.d, in.Username, in.Password.Reveal(), in.Attributes)
	if err == nil && (in.Alias != "" || len(in.StrongMethods) > 0) {
		if xerr := rc.d.setUserExtras(in.Username, in.Alias, in.StrongMethods); xerr != nil {
			rc.fail(&apiError{status: http.StatusConflict, Error: nativeauth.ErrUserAlreadyExists,
				Code: nativeauth.CodeUserAlreadyExists, Message: "The alias is taken."})
			return
		}
	}
	if err == nil && in.PasswordResetRequired {
		rc.d.users.update(normalizeUsername(in.Username), func(cur *user, ok bool) (*user, bool) {
			if !ok {
				return nil, false
			}
			nu := *cur
			nu.resetRequired = true
			return &nu, true
		})
	}
	if err != nil {
		rc.fail(&apiError{status: http.StatusConflict, Error: nativeauth.ErrUserAlreadyExists,
			Code: nativeauth.CodeUserAlreadyExists, Message: "The user already exists."})
		return
	}
	rc.writeJSON(http.StatusCreated, backdoor.User{Username: u.username, ObjectID: u.objectID})
}

// pathUsername is the username of a backdoor path below
// backdoor.PathUsers (what follows it up to suffix, unescaped); a path that
// does not unescape is answered 400.
func (rc *reqCtx) pathUsername(p, suffix string) (string, bool) {
	name, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(p, backdoor.PathUsers+"/"), suffix))
	if err != nil {
		rc.fail(badBackdoor(http.StatusBadRequest, "The username in the path is not valid."))
		return "", false
	}
	return name, true
}

// errBackdoorNoUser is the backdoor's 404 for a user it does not hold.
func errBackdoorNoUser() *apiError {
	return &apiError{status: http.StatusNotFound, Error: nativeauth.ErrUserNotFound,
		Code: nativeauth.CodeUserNotFound, Message: "The user does not exist."}
}

// backdoorUser is how the backdoor shows a user.
func backdoorUser(u user) backdoor.User {
	return backdoor.User{Username: u.username, ObjectID: u.objectID, Attributes: u.attributes,
		Alias: u.alias, StrongMethods: backdoorMethods(u.methods)}
}

func (e *Emulator) bdGetUser(rc *reqCtx, name string) {
	u, ok := rc.d.userSnapshot(normalizeUsername(name))
	if !ok {
		rc.fail(errBackdoorNoUser())
		return
	}
	rc.writeJSON(http.StatusOK, backdoorUser(u))
}

func (e *Emulator) bdConfig(rc *reqCtx) {
	if rc.r.Method == http.MethodPut {
		cfg := DefaultConfig()
		if !rc.readJSON(&cfg) {
			return
		}
		t, err := compileTenant(cfg)
		if err != nil {
			rc.fail(badBackdoor(http.StatusBadRequest, "Invalid config: "+err.Error()))
			return
		}
		if bits := keyBits(cfg.Tokens); bits != e.key.N.BitLen() {
			// The signing key is made once, in New; accepting the change
			// would show key_bits the tokens are not signed with.
			rc.fail(badBackdoor(http.StatusBadRequest, fmt.Sprintf(
				"Invalid config: tokens.key_bits %d cannot change while the emulator runs (the key has %d bits); restart it with the new config.",
				bits, e.key.N.BitLen())))
			return
		}
		if err := e.injector.Set(cfg.Faults); err != nil { // validated with the config
			rc.fail(badBackdoor(http.StatusBadRequest, "Invalid config: faults: "+err.Error()))
			return
		}
		e.tenant.Store(t)
		rc.t = t
	}
	out := rc.t.cfg
	// Seeded users' passwords are secrets: the config is shown without them.
	out.Users = make([]backdoor.SeedUser, len(rc.t.cfg.Users))
	for i, u := range rc.t.cfg.Users {
		u.Password = ""
		out.Users[i] = u
	}
	rc.writeJSON(http.StatusOK, out)
}

func (e *Emulator) bdFaults(rc *reqCtx) {
	if rc.r.Method == http.MethodPut {
		var s backdoor.Faults
		if !rc.readJSON(&s) {
			return
		}
		err := validateFaultKeys(s)
		if err == nil {
			err = e.injector.Set(s)
		}
		if err != nil {
			rc.fail(badBackdoor(http.StatusBadRequest, fmt.Sprintf("Invalid faults: %v", err)))
			return
		}
	}
	rc.writeJSON(http.StatusOK, e.injector.Get())
}
