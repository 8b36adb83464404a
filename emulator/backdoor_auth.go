package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// The backdoor hands out one-time passcodes and can switch every endpoint to
// 503, so an emulator served beyond loopback must not offer it to anyone
// who can reach the port. These are the rules `ciamcheck emulator` applies.

// MinBackdoorTokenLen is the shortest token accepted: a guessable token
// would protect nothing.
const MinBackdoorTokenLen = 16

// codeBackdoorUnauthorized: emulator's choice, next to 90056/90057.
const codeBackdoorUnauthorized = 90058

// errBackdoorToken is RFC 6750's error for a missing or wrong bearer token;
// the backdoor is the emulator's own API, not the native authentication
// API, so its vocabulary is not the pages'.
const errBackdoorToken nativeauth.ErrorCode = "invalid_token"

// BackdoorAccess is who may call a served emulator's backdoor.
type BackdoorAccess int

// The ways a backdoor can be served.
const (
	BackdoorOff         BackdoorAccess = iota // disabled: 404
	BackdoorLoopback                          // listening on loopback only, no token
	BackdoorToken                             // a bearer token is required
	BackdoorUnprotected                       // reachable from the network without a token, as asked
)

// ErrBackdoorExposed is returned by DecideBackdoorAccess when an emulator
// would serve an unprotected backdoor beyond loopback without being told to.
var ErrBackdoorExposed = errors.New("the backdoor would be open to the network")

// DecideBackdoorAccess applies the rules to the address an emulator listens
// on: off when disabled; token-protected whenever a token is given (on
// loopback too); open on loopback; open beyond loopback only with
// unprotected, the caller's explicit choice; refused otherwise.
func DecideBackdoorAccess(listen net.Addr, disabled bool, token string, unprotected bool) (BackdoorAccess, error) {
	if disabled {
		return BackdoorOff, nil
	}
	if token != "" {
		if unprotected {
			return 0, errors.New("a backdoor token and an unprotected backdoor were both asked for; choose one")
		}
		if len(token) < MinBackdoorTokenLen {
			return 0, fmt.Errorf("the backdoor token is %d characters; want at least %d (e.g. openssl rand -hex 16)", len(token), MinBackdoorTokenLen)
		}
		return BackdoorToken, nil
	}
	if IsLoopback(listen) {
		return BackdoorLoopback, nil
	}
	if unprotected {
		return BackdoorUnprotected, nil
	}
	return 0, fmt.Errorf("%w at %s: anyone who can reach it reads one-time passcodes and changes the tenant", ErrBackdoorExposed, listen)
}

// IsLoopback reports whether a listening address accepts loopback
// connections only. The unspecified address (0.0.0.0, ::) is every
// interface, hence not loopback.
func IsLoopback(a net.Addr) bool {
	switch v := a.(type) {
	case *net.TCPAddr:
		return v.IP.IsLoopback()
	case nil:
		return false
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ProtectBackdoor makes every backdoor call answer 401 unless it carries
// "Authorization: Bearer {token}"; "" removes the protection. The token is
// not part of the Config (GET config shows the config) and survives Reset.
func (e *Emulator) ProtectBackdoor(token string) error {
	if token == "" {
		e.backdoorToken.Store(nil)
		return nil
	}
	if len(token) < MinBackdoorTokenLen {
		return fmt.Errorf("backdoor token: %d characters, want at least %d", len(token), MinBackdoorTokenLen)
	}
	sum := sha256.Sum256([]byte(token))
	e.backdoorToken.Store(&sum)
	return nil
}

// backdoorAuthorized checks the request's bearer token in constant time
// (both sides hashed to one length first, so neither length nor content
// leaks through timing) and answers 401 when it is missing or wrong.
func (rc *reqCtx) backdoorAuthorized() bool {
	want := rc.e.backdoorToken.Load()
	if want == nil {
		return true
	}
	h := rc.w.Header()
	scheme, tok, found := strings.Cut(rc.r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		h.Set("WWW-Authenticate", `Bearer realm="ciamcheck emulator backdoor"`)
		rc.fail(&apiError{status: http.StatusUnauthorized, Error: errBackdoorToken, Code: codeBackdoorUnauthorized,
			Message: "The backdoor requires an Authorization: Bearer token."})
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		h.Set("WWW-Authenticate", `Bearer realm="ciamcheck emulator backdoor", error="invalid_token"`)
		rc.fail(&apiError{status: http.StatusUnauthorized, Error: errBackdoorToken, Code: codeBackdoorUnauthorized,
			Message: "The backdoor token is not valid."})
		return false
	}
	return true
}
