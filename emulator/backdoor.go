package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// readJSON decodes a bounded JSON body, refusing unknown fields.
func readJSON(r *http.Request, v any) *apiError {
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

func (e *Emulator) serveBackdoor(rc *reqCtx, p string) {
	m := rc.r.Method
	method := func(ms ...string) bool {
		for _, x := range ms {
			if x == m {
				return true
			}
		}
		rc.w.Header().Set("Allow", strings.Join(ms, ", "))
		rc.fail(&apiError{status: http.StatusMethodNotAllowed, Error: nativeauth.ErrInvalidRequest,
			Code: codeMethodNotAllowed, Message: "Method not allowed."})
		return false
	}
	switch {
	case p == backdoor.PathOutbox:
		if method(http.MethodGet) {
			e.bdOutbox(rc)
		}
	case p == backdoor.PathClock:
		if method(http.MethodGet, http.MethodPost) {
			e.bdClock(rc)
		}
	case p == backdoor.PathReset:
		if method(http.MethodPost) {
			e.Reset()
			rc.w.WriteHeader(http.StatusNoContent)
		}
	case p == backdoor.PathUsers:
		if method(http.MethodPost) {
			e.bdCreateUser(rc)
		}
	case strings.HasPrefix(p, backdoor.PathUsers+"/") && strings.HasSuffix(p, "/"+backdoor.PathStrongMethods):
		if method(http.MethodPut) {
			if name, ok := rc.pathUsername(p, "/"+backdoor.PathStrongMethods); ok {
				e.bdSetStrongMethods(rc, name)
			}
		}
	case strings.HasPrefix(p, backdoor.PathUsers+"/"):
		if method(http.MethodGet) {
			if name, ok := rc.pathUsername(p, ""); ok {
				e.bdGetUser(rc, name)
			}
		}
	case p == backdoor.PathConfig:
		if method(http.MethodGet, http.MethodPut) {
			e.bdConfig(rc)
		}
	case p == backdoor.PathFaults:
		if method(http.MethodGet, http.MethodPut) {
			e.bdFaults(rc)
		}
	case p == backdoor.PathStats:
		if method(http.MethodGet) {
			e.bdStats(rc)
		}
	default:
		rc.notFound()
	}
}

func (e *Emulator) bdOutbox(rc *reqCtx) {
	u := rc.r.URL.Query().Get("username")
	if u == "" {
		rc.fail(badBackdoor(http.StatusBadRequest, "The username query parameter is required."))
		return
	}
	msgs, _ := rc.d.outbox.get(normalizeUsername(u))
	out := backdoor.Outbox{Username: u, Messages: msgs}
	rc.writeJSON(http.StatusOK, out.Revealed())
}

func (e *Emulator) bdClock(rc *reqCtx) {
	if rc.r.Method == http.MethodPost {
		var in backdoor.ClockAdvance
		if ae := readJSON(rc.r, &in); ae != nil {
			rc.fail(ae)
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

func (e *Emulator) bdCreateUser(rc *reqCtx) {
	var in backdoor.NewUser
	if ae := readJSON(rc.r, &in); ae != nil {
		rc.fail(ae)
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
		if ae := readJSON(rc.r, &cfg); ae != nil {
			rc.fail(ae)
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
		if ae := readJSON(rc.r, &s); ae != nil {
			rc.fail(ae)
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
