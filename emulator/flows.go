package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// continuationBody is a success answer carrying only a continuation token.
type continuationBody struct {
	ContinuationToken string `json:"continuation_token"`
}

// newFlow registers a flow record and returns it locked, with its first
// token. At the tenant's bound on live flows it registers nothing and
// answers as a throttled tenant does (errFlowLimit).
func (rc *reqCtx) newFlow(kind flowKind, st step, username string, set challengeSet) (*flow, string, *apiError) {
	if n := rc.d.liveFlows.Add(1); n > rc.t.maxLiveFlows {
		rc.d.liveFlows.Add(-1)
		rc.d.flowsRefused.Add(1)
		// Abandoned flows past their expiry free their room at the next
		// sweep; ask for one now rather than in up to janitorEvery.
		rc.e.requestSweep()
		return nil, "", errFlowLimit()
	}
	f := &flow{kind: kind, clientID: rc.app.ClientID, username: username, challenges: set}
	// Locked before it is stored: the janitor must not see the new flow
	// before issue sets its expiry (an expiry of zero looks long expired).
	f.mu.Lock()
	var id flowID
	for {
		_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+)
		if rc.d.flows.putIfAbsent(id, f) {
			break
		}
	}
	return f, rc.issue(f, id, st), nil
}

// flowLimitRetryAfter is the Retry-After of a start refused at the bound:
// room comes back as flows finish or, once expired, at the sweep the
// refusal asked for.
const flowLimitRetryAfter = "1"

// errFlowLimit is the answer of a start past the bound on live flows: 429
// with Retry-After and the pages' error body, as the emulator's faults and
// a throttled tenant answer (temporarily_unavailable, Entra's throttling
// code 50196).
func errFlowLimit() *apiError {
	return &apiError{status: http.StatusTooManyRequests, Error: nativeauth.ErrTemporarilyUnavailable, Code: nativeauth.CodeThrottled,
		Message:    "Too many sign-up, sign-in and password reset flows are in progress. Please try again later.",
		retryAfter: flowLimitRetryAfter}
}

// issue moves a flow to st and mints the token for that step; every older
// token of the flow stops working.
func (rc *reqCtx) issue(f *flow, id flowID, st step) string {
	f.nonce++
	f.step = st
	exp := rc.now.Add(rc.t.cfg.Continuation.Lifetime.D())
	f.expires = exp.UnixMilli()
	return rc.e.codec.seal(ctClaims{kind: f.kind, step: st, flow: id, nonce: f.nonce, expires: exp})
}

// loadFlow validates the request's continuation_token for a flow of kind
// (0: any kind) and returns the record locked (caller unlocks) with its ID.
// badErr is the error the endpoint's table documents for an invalid token.
func (rc *reqCtx) loadFlow(kind flowKind, badErr nativeauth.ErrorCode) (*flow, flowID, *apiError) {
	tok := rc.f.get(nativeauth.ParamContinuationToken)
	if tok == "" {
		return nil, flowID{}, errMissing(nativeauth.ParamContinuationToken)
	}
	cl, ok := rc.e.codec.open(tok)
	if !ok {
		return nil, flowID{}, errBadContinuation(badErr)
	}
	if !rc.now.Before(cl.expires) {
		return nil, flowID{}, errExpiredContinuation()
	}
	f, ok := rc.d.flows.get(cl.flow)
	if !ok {
		return nil, flowID{}, errBadContinuation(badErr)
	}
	f.mu.Lock()
	// One check for replay, another flow's or step's token, and another
	// client: the nonce pins the newest token, kind and client the rest.
	if f.done || f.nonce != cl.nonce || (kind != 0 && f.kind != kind) || cl.kind != f.kind || f.step != cl.step ||
		!strings.EqualFold(f.clientID, rc.app.ClientID) {
		f.mu.Unlock()
		return nil, flowID{}, errBadContinuation(badErr)
	}
	return f, cl.flow, nil
}

// finish retires a flow: its tokens stop working and the record goes.
func (rc *reqCtx) finish(f *flow, id flowID) {
	f.done = true
	if rc.d.flows.remove(id) {
		rc.d.liveFlows.Add(-1)
	}
}

// challengeList reads the optional challenge_type of a challenge call; a
// call without it keeps the list the flow started with. A list that does
// not parse is answered, and it reports false.
func (rc *reqCtx) challengeList(f *flow) (challengeSet, bool) {
	if strings.TrimSpace(rc.f.get(nativeauth.ParamChallengeType)) == "" {
		return f.challenges, true
	}
	set, ae := parseChallengeTypes(rc.f.get(nativeauth.ParamChallengeType))
	if ae != nil {
		rc.fail(ae)
		return 0, false
	}
	f.challenges = set
	return set, true
}

// oobChallengeBody is the answer of a challenge that sent an OTP.
type oobChallengeBody struct {
	// Interval is a pointer so that 0 (resend at once, a valid config) is
	// still sent where the pages show the member, and nil leaves it out
	// where they do not (reset challenge).
	Interval             *int                     `json:"interval,omitempty"`
	ContinuationToken    string                   `json:"continuation_token"`
	ChallengeType        nativeauth.ChallengeType `json:"challenge_type"`
	BindingMethod        string                   `json:"binding_method"`
	ChallengeChannel     string                   `json:"challenge_channel"`
	ChallengeTargetLabel string                   `json:"challenge_target_label"`
	CodeLength           int                      `json:"code_length"`
}

// passwordChallengeBody is the answer of a challenge asking for a password.
type passwordChallengeBody struct {
	ChallengeType     nativeauth.ChallengeType `json:"challenge_type"`
	ContinuationToken string                   `json:"continuation_token"`
}

// sendOTP mints a fresh code for the flow (the previous one stops working)
// and emails it to the account.
func (rc *reqCtx) sendOTP(f *flow, label string) {
	rc.sendCode(f, label, backdoor.StrongMethodEmail, f.username)
}

// sendCode mints a fresh code for the flow and delivers it on channel to
// target. Every code lands in the account's outbox, whatever the channel,
// so one OTP source serves first and second factors alike.
func (rc *reqCtx) sendCode(f *flow, label, channel, target string) {
	cfg := rc.t.cfg.OTP
	code := newOTP(cfg.CodeLength)
	exp := rc.now.Add(cfg.Lifetime.D())
	f.otp, f.otpExpires, f.oobFails = code, exp.UnixMilli(), 0
	msg := backdoor.OutboxMessage{Code: nativeauth.Secret(code), Flow: label, IssuedAt: rc.now, ExpiresAt: exp,
		Channel: channel, Target: target}
	rc.d.outbox.add(normalizeUsername(f.username), msg, rc.t.cfg.Outbox.PerUser, rc.t.cfg.Outbox.MaxMessages)
}

// oobBody builds the oob challenge answer.
func (rc *reqCtx) oobBody(f *flow, tok string) oobChallengeBody {
	return oobChallengeBody{
		Interval:             &rc.t.cfg.OTP.Interval,
		ContinuationToken:    tok,
		ChallengeType:        nativeauth.ChallengeTypeOOB,
		BindingMethod:        nativeauth.BindingMethodPrompt,
		ChallengeChannel:     nativeauth.ChallengeChannelEmail,
		ChallengeTargetLabel: maskEmail(f.username),
		CodeLength:           rc.t.cfg.OTP.CodeLength,
	}
}

// checkOTP compares the oob value with the flow's current code. After the
// tenant's otp.max_attempts wrong values the code stops working, the right
// one included, until a new challenge sends another: without a limit a
// code of 8 digits falls to guessing at the emulator's speed.
func (rc *reqCtx) checkOTP(f *flow) *apiError {
	oob := rc.f.get(nativeauth.ParamOOB)
	if oob == "" {
		return errMissing(nativeauth.ParamOOB)
	}
	if int(f.oobFails) >= rc.t.otpMaxAttempts {
		return errOTPAttempts()
	}
	if f.otp == "" || subtle.ConstantTimeCompare([]byte(oob), []byte(f.otp)) != 1 {
		if f.otp == "" {
			return errOTP(false)
		}
		f.oobFails++
		if int(f.oobFails) >= rc.t.otpMaxAttempts {
			f.otp = ""
			rc.d.passcodeLockouts.Add(1)
			return errOTPAttempts()
		}
		return errOTP(false)
	}
	if rc.now.UnixMilli() >= f.otpExpires {
		return errOTP(true)
	}
	f.otp = "" // a code verifies once
	return nil
}

// newOTP draws n uniformly random decimal digits from crypto/rand.
func newOTP(n int) string {
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if b < 250 && len(out) < n { // 250 = 25*10: rejection keeps digits uniform
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out)
}

// maskEmail renders the challenge_target_label: "c***r@co***.com".
func maskEmail(u string) string {
	at := strings.LastIndexByte(u, '@')
	if at < 1 {
		return "***"
	}
	local, domain := u[:at], u[at+1:]
	var b strings.Builder
	b.WriteByte(local[0])
	b.WriteString("***")
	if len(local) > 1 {
		b.WriteByte(local[len(local)-1])
	}
	b.WriteByte('@')
	dot := strings.LastIndexByte(domain, '.')
	if dot < 1 {
		b.WriteString("***")
		return b.String()
	}
	name := domain[:dot]
	if len(name) > 2 {
		b.WriteString(name[:2])
	} else {
		b.WriteString(name[:1])
	}
	b.WriteString("***")
	b.WriteString(domain[dot:])
	return b.String()
}

// validateAttributes checks submitted values against the configured
// attributes and returns those that fail their regex. Names the tenant
// does not collect are ignored, as the pages say.
func (t *tenant) validateAttributes(attrs map[string]string) []nativeauth.AttributeSpec {
	var bad []nativeauth.AttributeSpec
	for _, a := range t.attrs {
		v, ok := attrs[a.Name]
		if !ok {
			continue
		}
		if len(v) > 1024 || (a.re != nil && !a.re.MatchString(v)) {
			bad = append(bad, nativeauth.AttributeSpec{Name: a.Name})
		}
	}
	return bad
}

func errInvalidAttributes(bad []nativeauth.AttributeSpec) *apiError {
	e := newErr(nativeauth.ErrInvalidGrant, nativeauth.CodeAttributesInvalid, "Some of the collected attributes were invalid.")
	e.Suberror = nativeauth.SuberrorAttributeValidationFailed
	e.InvalidAttributes = bad
	return e
}

// keepKnown returns the submitted attributes the tenant collects;
// requiredOnly narrows to required ones (after the email is verified the
// pages accept only required attributes).
func (t *tenant) keepKnown(attrs map[string]string, requiredOnly bool) map[string]string {
	var out map[string]string
	for k, v := range attrs {
		a, ok := t.attrByName[k]
		if !ok || (requiredOnly && !a.Required) {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(attrs))
		}
		out[k] = v
	}
	return out
}

// missingRequired lists the required attributes the flow still lacks.
func (t *tenant) missingRequired(have map[string]string) []nativeauth.AttributeSpec {
	var miss []nativeauth.AttributeSpec
	for _, a := range t.attrs {
		if !a.Required {
			continue
		}
		if v, ok := have[a.Name]; !ok || strings.TrimSpace(v) == "" {
			miss = append(miss, a.spec)
		}
	}
	return miss
}

// expiresIn is the whole seconds from now to unix-ms t, at least 1.
func expiresIn(now time.Time, t int64) int {
	s := int(time.UnixMilli(t).Sub(now) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// readStart reads what every start endpoint reads before its own checks:
// the username (valid by validName), the challenge_type list and the
// capabilities. It answers the error itself and reports whether the
// request may go on.
func (rc *reqCtx) readStart(validName func(string) bool) (string, challengeSet, bool) {
	if !rc.parse() {
		return "", 0, false
	}
	username := rc.f.get(nativeauth.ParamUsername)
	if !validName(username) {
		rc.fail(errInvalidUsername())
		return "", 0, false
	}
	set, ae := parseChallengeTypes(rc.f.get(nativeauth.ParamChallengeType))
	if ae != nil {
		rc.fail(ae)
		return "", 0, false
	}
	if _, ae := parseCapabilities(rc.f.get(nativeauth.ParamCapabilities)); ae != nil {
		rc.fail(ae)
		return "", 0, false
	}
	return username, set, true
}

// grantStart ends every start endpoint: the capabilities the flow will need
// (need) are checked, the flow opens at st, fill (may be nil) records what
// the start collected, and the answer carries the first continuation token.
func (rc *reqCtx) grantStart(kind flowKind, st step, username string, set challengeSet, need capSet, fill func(*flow)) {
	caps, ok := rc.startCapabilities(need)
	if !ok {
		return
	}
	f, tok, ae := rc.newFlow(kind, st, username, set)
	if ae != nil {
		rc.fail(ae)
		return
	}
	f.caps = caps
	if fill != nil {
		fill(f)
	}
	f.mu.Unlock()
	rc.writeJSON(http.StatusOK, continuationBody{ContinuationToken: tok})
}

// flowUser is the user a flow is for. A user deleted while the flow was
// open ends the flow with user_not_found; it reports whether the user is
// still there.
func (rc *reqCtx) flowUser(f *flow, id flowID) (user, bool) {
	u, ok := rc.d.userSnapshot(normalizeUsername(f.username))
	if !ok {
		rc.finish(f, id)
		rc.fail(errUserNotFound())
	}
	return u, ok
}

// failAt answers ae with a continuation token that takes the flow on from
// step st: the errors that ask the app for something more (verification,
// a credential, attributes, a second factor).
func (rc *reqCtx) failAt(f *flow, id flowID, st step, ae *apiError) {
	ae.ContinuationToken = rc.issue(f, id, st)
	rc.fail(ae)
}

// openFlow is loadFlow for a handler: it answers the error itself and
// reports whether the flow, locked (caller unlocks), may go on.
func (rc *reqCtx) openFlow(kind flowKind, badErr nativeauth.ErrorCode) (*flow, flowID, bool) {
	f, id, ae := rc.loadFlow(kind, badErr)
	if ae != nil {
		rc.fail(ae)
		return nil, flowID{}, false
	}
	return f, id, true
}

// openStep is openFlow for a call that follows one of steps (any step
// when none is given); a token of another step of the flow is answered as
// an invalid one (badErr, the endpoint table's error). The second-factor
// calls pass kind 0: their branches follow sign-in, sign-up and reset.
func (rc *reqCtx) openStep(kind flowKind, badErr nativeauth.ErrorCode, steps ...step) (*flow, flowID, bool) {
	f, id, ok := rc.openFlow(kind, badErr)
	if !ok {
		return nil, flowID{}, false
	}
	if len(steps) > 0 && !slices.Contains(steps, f.step) {
		f.mu.Unlock()
		rc.fail(errBadContinuation(badErr))
		return nil, flowID{}, false
	}
	return f, id, true
}

// flowCall is an endpoint that continues a flow. Its handler serve runs
// with the form parsed and the flow of the continuation token locked at
// one of steps (any step of the flow when steps is empty); a token of
// another kind or step is answered with badErr.
type flowCall struct {
	kind   flowKind
	badErr nativeauth.ErrorCode
	steps  []step
	// refuse, when set, answers a tenant setting that refuses the call
	// whatever its token says, before the token is read.
	refuse func(rc *reqCtx) bool
	serve  func(rc *reqCtx, f *flow, id flowID)
}

func (c flowCall) handle(rc *reqCtx) {
	if !rc.parse() || (c.refuse != nil && c.refuse(rc)) {
		return
	}
	f, id, ok := rc.openStep(c.kind, c.badErr, c.steps...)
	if !ok {
		return
	}
	defer f.mu.Unlock()
	c.serve(rc, f, id)
}

// grantType is the request's grant_type; a request without one is
// answered (missing parameter) and reports false.
func (rc *reqCtx) grantType() (nativeauth.GrantType, bool) {
	gt := nativeauth.GrantType(rc.f.get(nativeauth.ParamGrantType))
	if gt == "" {
		rc.fail(errMissing(nativeauth.ParamGrantType))
		return "", false
	}
	return gt, true
}
