package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Codes of the 2026-02 revision's answers that its pages do not give. Each
// is the emulator's choice (an AADSTS code Entra uses for the same
// condition where one is well known) and is listed in README.md.
const (
	codeMFARequired          = 50076 // AADSTS50076: multi-factor authentication required
	codeRegistrationRequired = 50079 // AADSTS50079: user required to enroll for MFA
	codeInvalidCapability    = 55100 // emulator's choice: unknown capabilities value
	codeUnknownMethod        = 55107 // emulator's choice: id names no method of the user
)

// capSet is a set of capabilities, as bits.
type capSet uint8

const (
	capMFA capSet = 1 << iota
	capRegistration
)

func (c capSet) has(x capSet) bool { return c&x == x }

// capBits maps the wire values to bits.
var capBits = map[nativeauth.Capability]capSet{
	nativeauth.CapabilityMFARequired:          capMFA,
	nativeauth.CapabilityRegistrationRequired: capRegistration,
}

// parseCapabilities reads the optional capabilities parameter of the three
// start endpoints. An unknown value is an invalid request (the
// challenge-types page: "Native authentication API returns an error and
// treats the request as invalid").
func parseCapabilities(s string) (capSet, *apiError) {
	var set capSet
	for _, v := range strings.Fields(s) {
		b, ok := capBits[nativeauth.Capability(v)]
		if !ok {
			return 0, newErr(nativeauth.ErrInvalidRequest, codeInvalidCapability,
				fmt.Sprintf("The capabilities parameter contains an unsupported capability '%s'.", sanitizeEcho(v)))
		}
		set |= b
	}
	return set, nil
}

// strongMethod is one registered strong authentication method.
type strongMethod struct {
	id      string // opaque, what sign-in introspect lists
	channel string // email or sms
	target  string // email address or E.164 number
}

// offered lists u's methods on the channels the tenant enables.
func (t *tenant) offered(u user) []strongMethod {
	var out []strongMethod
	for _, m := range u.methods {
		if t.cfg.MFA.Allows(m.channel) {
			out = append(out, m)
		}
	}
	return out
}

// secondFactorNeed is what the tenant requires of u after a first factor:
// nothing, an MFA challenge, or the registration of a strong method.
func (t *tenant) secondFactorNeed(u user) capSet {
	// The pages: mfa_required and registration_required occur only when
	// the primary method is email with password.
	if !t.cfg.MFA.Enabled || !t.passwordTenant() || !u.hasPassword {
		return 0
	}
	if len(t.offered(u)) > 0 {
		return capMFA
	}
	if t.cfg.MFA.RequireRegistration {
		return capRegistration
	}
	return 0
}

// missingCapabilityReason is the redirect_reason for a capability the app
// did not advertise; the token page's example words it so.
func missingCapabilityReason(need capSet) string {
	if need == capRegistration {
		return "Client is missing registration_required capability"
	}
	return "Client is missing mfa_required capability"
}

// startCapabilities parses capabilities at a start endpoint and, when the
// tenant will need one the app did not advertise, answers the redirect
// there rather than after the first factor. need is what the flow will
// need (0 when nothing or not yet known). It reports whether the flow may
// go on.
func (rc *reqCtx) startCapabilities(need capSet) (capSet, bool) {
	caps, ae := parseCapabilities(rc.f.get(nativeauth.ParamCapabilities))
	if ae != nil {
		rc.fail(ae)
		return 0, false
	}
	if need != 0 && !caps.has(need) {
		rc.redirect(missingCapabilityReason(need))
		return 0, false
	}
	return caps, true
}

// signUpSecondFactorNeed is what a new account will need: sign-up makes a
// user with no strong method.
func (t *tenant) signUpSecondFactorNeed() capSet {
	if t.cfg.MFA.Enabled && t.passwordTenant() && t.cfg.MFA.RequireRegistration {
		return capRegistration
	}
	return 0
}

// secondFactor runs after a first factor succeeded at token: it answers
// mfa_required or registration_required with a continuation token for the
// next step, or a redirect when the app lacks the capability, and reports
// whether it answered. Tokens are issued by the caller otherwise.
func (rc *reqCtx) secondFactor(f *flow, id flowID, u user) bool {
	need := rc.t.secondFactorNeed(u)
	if need == 0 || f.mfaDone {
		return false
	}
	if !f.caps.has(need) {
		rc.finish(f, id)
		rc.redirect(missingCapabilityReason(need))
		return true
	}
	if need == capMFA {
		ae := newErr(nativeauth.ErrInvalidGrant, codeMFARequired,
			"Due to a configuration change made by your administrator, you must use multi-factor authentication.")
		ae.Suberror = nativeauth.SuberrorMFARequired
		rc.failAt(f, id, stepMFARequired, ae)
		return true
	}
	ae := newErr(nativeauth.ErrInvalidGrant, codeRegistrationRequired,
		"The user must register a strong authentication method before signing in.")
	ae.Suberror = nativeauth.SuberrorRegistrationRequired
	rc.failAt(f, id, stepRegRequired, ae)
	return true
}

// isSecondFactorStep reports whether st belongs to the MFA or registration
// branch.
func isSecondFactorStep(st step) bool { return st >= stepMFARequired && st <= stepRegDone }

// methodBody is one method of an introspect answer.
type methodBody struct {
	ID               string                   `json:"id"`
	ChallengeType    nativeauth.ChallengeType `json:"challenge_type"`
	ChallengeChannel string                   `json:"challenge_channel"`
	LoginHint        string                   `json:"login_hint,omitempty"`
}

type introspectBody struct {
	ContinuationToken string       `json:"continuation_token"`
	Methods           []methodBody `json:"methods"`
}

// signInIntrospect: /oauth2/v2.0/introspect lists the user's strong
// methods, hints masked.
func (rc *reqCtx) signInIntrospect(f *flow, id flowID) {
	u, ok := rc.flowUser(f, id)
	if !ok {
		return
	}
	ms := rc.t.offered(u)
	if len(ms) == 0 {
		// The administrator turned the user's channels off mid-flow.
		rc.finish(f, id)
		rc.redirect("No strong authentication method of the user is enabled.")
		return
	}
	body := introspectBody{Methods: make([]methodBody, len(ms))}
	for i, m := range ms {
		body.Methods[i] = methodBody{ID: m.id, ChallengeType: nativeauth.ChallengeTypeOOB, ChallengeChannel: m.channel, LoginHint: maskContact(m)}
	}
	body.ContinuationToken = rc.issue(f, id, stepMFAIntrospected)
	rc.writeJSON(http.StatusOK, body)
}

// maskContact is the login_hint of a sign-in introspect method.
func maskContact(m strongMethod) string {
	if m.channel == backdoor.StrongMethodSMS {
		return maskPhone(m.target)
	}
	return maskEmail(m.target)
}

// maskPhone keeps the country code's first digit and the last digit, as
// the page's "+1********6".
func maskPhone(p string) string {
	if len(p) < 4 {
		return "***"
	}
	return p[:2] + strings.Repeat("*", len(p)-3) + p[len(p)-1:]
}

// mfaChallenge: /oauth2/v2.0/challenge with id, the second factor. The
// challenge_type list is optional (the JS client sends it, the page's
// example and Android do not).
func (e *Emulator) mfaChallenge(rc *reqCtx) {
	f, id, ok := rc.openStep(0, nativeauth.ErrInvalidGrant, stepMFAIntrospected, stepMFAOOBSent)
	if !ok {
		return
	}
	defer f.mu.Unlock()
	if ct := strings.TrimSpace(rc.f.get(nativeauth.ParamChallengeType)); ct != "" {
		set, ae := parseChallengeTypes(ct)
		if ae != nil {
			rc.fail(ae)
			return
		}
		if !set.has(chOOB) {
			rc.redirect("The challenge_type list does not contain oob, which multifactor authentication needs.")
			return
		}
	}
	u, ok := rc.flowUser(f, id)
	if !ok {
		return
	}
	want := rc.f.get(nativeauth.ParamID)
	if want == "" {
		rc.fail(errMissing(nativeauth.ParamID))
		return
	}
	i := slices.IndexFunc(rc.t.offered(u), func(m strongMethod) bool { return m.id == want })
	if i < 0 {
		rc.fail(newErr(nativeauth.ErrInvalidRequest, codeUnknownMethod,
			"The id is not a strong authentication method of the user."))
		return
	}
	m := rc.t.offered(u)[i]
	rc.sendCode(f, "mfa", m.channel, m.target)
	tok := rc.issue(f, id, stepMFAOOBSent)
	body := rc.oobBody(f, tok)
	body.Interval = nil // the MFA challenge answer has no interval
	body.ChallengeChannel, body.ChallengeTargetLabel = m.channel, maskContact(m)
	rc.writeJSON(http.StatusOK, body)
}

// registerIntrospect: /register/v1.0/introspect lists the methods the
// tenant lets the user register; the email one carries the account's
// email unmasked, for prefill.
func (rc *reqCtx) registerIntrospect(f *flow, id flowID) {
	var body introspectBody
	for _, ch := range []string{backdoor.StrongMethodEmail, backdoor.StrongMethodSMS} {
		if !rc.t.cfg.MFA.Allows(ch) {
			continue
		}
		m := methodBody{ID: ch, ChallengeType: nativeauth.ChallengeTypeOOB, ChallengeChannel: ch}
		if ch == backdoor.StrongMethodEmail {
			m.LoginHint = f.username
		}
		body.Methods = append(body.Methods, m)
	}
	if len(body.Methods) == 0 {
		rc.finish(f, id)
		rc.redirect("No strong authentication method is enabled for registration.")
		return
	}
	body.ContinuationToken = rc.issue(f, id, stepRegIntrospected)
	rc.writeJSON(http.StatusOK, body)
}

var phoneRE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func errInvalidContact(msg string) *apiError {
	return newErr(nativeauth.ErrInvalidRequest, nativeauth.CodeInvalidVerificationContact, msg)
}

func errBlocked(sub nativeauth.Suberror, msg string) *apiError {
	ae := newErr(nativeauth.ErrAccessDenied, nativeauth.CodeProviderBlocked, msg)
	ae.Suberror = sub
	return ae
}

type registerOOBBody struct {
	ContinuationToken string                   `json:"continuation_token"`
	ChallengeType     nativeauth.ChallengeType `json:"challenge_type"`
	BindingMethod     string                   `json:"binding_method"`
	ChallengeTarget   string                   `json:"challenge_target"`
	ChallengeChannel  string                   `json:"challenge_channel"`
	CodeLength        int                      `json:"code_length"`
}

type preverifiedBody struct {
	ContinuationToken string                   `json:"continuation_token"`
	ChallengeType     nativeauth.ChallengeType `json:"challenge_type"`
}

// registerChallenge: /register/v1.0/challenge sends a code to the contact
// the user typed, or answers preverified when it is the email the flow
// already verified with a code.
func (rc *reqCtx) registerChallenge(f *flow, id flowID) {
	ct := rc.f.get(nativeauth.ParamChallengeType)
	if ct == "" {
		rc.fail(errMissing(nativeauth.ParamChallengeType))
		return
	}
	if nativeauth.ChallengeType(ct) != nativeauth.ChallengeTypeOOB {
		rc.fail(newErr(nativeauth.ErrInvalidRequest, codeInvalidChallengeType,
			fmt.Sprintf("The challenge_type '%s' is not supported for registration; want oob.", sanitizeEcho(ct))))
		return
	}
	target := strings.TrimSpace(rc.f.get(nativeauth.ParamChallengeTarget))
	if target == "" {
		rc.fail(errMissing(nativeauth.ParamChallengeTarget))
		return
	}
	channel := rc.f.get(nativeauth.ParamChallengeChannel)
	if channel == "" {
		// Optional on the page: the contact says which it is.
		channel = backdoor.StrongMethodSMS
		if strings.Contains(target, "@") {
			channel = backdoor.StrongMethodEmail
		}
	}
	if channel != backdoor.StrongMethodEmail && channel != backdoor.StrongMethodSMS || !rc.t.cfg.MFA.Allows(channel) {
		rc.fail(errMalformed(fmt.Sprintf("The challenge_channel '%s' is not enabled for registration.", sanitizeEcho(channel))))
		return
	}
	switch {
	case channel == backdoor.StrongMethodEmail && !validUsername(target):
		rc.fail(errInvalidContact("The challenge_target is not a valid email address."))
		return
	case channel == backdoor.StrongMethodSMS && !phoneRE.MatchString(target):
		rc.fail(errInvalidContact("The challenge_target is not a valid phone number in E.164 form."))
		return
	case channel == backdoor.StrongMethodSMS && slices.ContainsFunc(rc.t.cfg.MFA.BlockedRegions, func(p string) bool { return strings.HasPrefix(target, p) }):
		rc.fail(errBlocked(nativeauth.SuberrorProviderBlockedByAdmin, "The administrator has blocked this phone region."))
		return
	case channel == backdoor.StrongMethodSMS && slices.Contains(rc.t.cfg.MFA.BlockedNumbers, target):
		rc.fail(errBlocked(nativeauth.SuberrorProviderBlockedByRep, "The phone number was blocked."))
		return
	}
	f.regChannel, f.regTarget = channel, target
	if channel == backdoor.StrongMethodEmail && f.verified && normalizeUsername(target) == normalizeUsername(f.username) {
		f.otp = ""
		tok := rc.issue(f, id, stepRegPreverified)
		rc.writeJSON(http.StatusOK, preverifiedBody{ContinuationToken: tok, ChallengeType: nativeauth.ChallengeTypePreverified})
		return
	}
	rc.sendCode(f, "register", channel, target)
	tok := rc.issue(f, id, stepRegOOBSent)
	rc.writeJSON(http.StatusOK, registerOOBBody{
		ContinuationToken: tok,
		ChallengeType:     nativeauth.ChallengeTypeOOB,
		BindingMethod:     nativeauth.BindingMethodPrompt,
		ChallengeTarget:   target,
		ChallengeChannel:  channel,
		CodeLength:        rc.t.cfg.OTP.CodeLength,
	})
}

// registerContinue: /register/v1.0/continue proves the code (or takes the
// preverified contact) and registers the method.
func (rc *reqCtx) registerContinue(f *flow, id flowID) {
	gt, ok := rc.grantType()
	if !ok {
		return
	}
	switch {
	case gt == nativeauth.GrantTypeOOB:
		if !rc.otpGrant(gt, f, stepRegOOBSent) {
			return
		}
	case f.step == stepRegPreverified && gt == nativeauth.GrantTypeContinuationToken:
	default:
		rc.fail(errWrongGrant(gt))
		return
	}
	m := strongMethod{id: uuid.NewString(), channel: f.regChannel, target: f.regTarget}
	found := false
	rc.d.users.update(normalizeUsername(f.username), func(cur *user, ok bool) (*user, bool) {
		if !ok {
			return nil, false
		}
		found = true
		nu := *cur
		nu.methods = append(slices.Clone(cur.methods), m)
		return &nu, true
	})
	if !found {
		rc.finish(f, id)
		rc.fail(errUserNotFound())
		return
	}
	f.mfaDone = true
	tok := rc.issue(f, id, stepRegDone)
	rc.writeJSON(http.StatusOK, continuationBody{ContinuationToken: tok})
}

// compileStrongMethods gives seeded or backdoor-set methods their ids.
func compileStrongMethods(in []backdoor.StrongMethod) []strongMethod {
	out := make([]strongMethod, len(in))
	for i, m := range in {
		out[i] = strongMethod{id: uuid.NewString(), channel: m.Channel, target: m.Target}
	}
	return out
}

// validStrongMethods checks methods given by config or backdoor.
func validStrongMethods(ms []backdoor.StrongMethod) error {
	for i, m := range ms {
		switch m.Channel {
		case backdoor.StrongMethodEmail:
			if !validUsername(m.Target) {
				return fmt.Errorf("strong_methods[%d] target %q is not an email address", i, m.Target)
			}
		case backdoor.StrongMethodSMS:
			if !phoneRE.MatchString(m.Target) {
				return fmt.Errorf("strong_methods[%d] target %q is not an E.164 phone number", i, m.Target)
			}
		default:
			return fmt.Errorf("strong_methods[%d] channel %q: want %q or %q", i, m.Channel, backdoor.StrongMethodEmail, backdoor.StrongMethodSMS)
		}
	}
	return nil
}

// aliasRE is what the emulator accepts as a username alias: not an email,
// printable, short.
var aliasRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// setUserExtras stores the alias and strong methods of a new user.
func (d *stateData) setUserExtras(username, alias string, methods []backdoor.StrongMethod) error {
	key := normalizeUsername(username)
	if alias != "" {
		if !d.aliases.putIfAbsent(strings.ToLower(alias), key) {
			return fmt.Errorf("alias %q is taken", alias)
		}
	}
	d.users.update(key, func(cur *user, ok bool) (*user, bool) {
		if !ok {
			return nil, false
		}
		nu := *cur
		nu.alias = alias
		nu.methods = compileStrongMethods(methods)
		return &nu, true
	})
	return nil
}

// resolveSignInName finds the account a sign-in username names: the email,
// or an alias where the tenant allows username sign-in.
func (rc *reqCtx) resolveSignInName(name string) (user, bool) {
	if validUsername(name) {
		return rc.d.userSnapshot(normalizeUsername(name))
	}
	if !rc.t.cfg.UsernameSignIn {
		return user{}, false
	}
	key, ok := rc.d.aliases.get(strings.ToLower(name))
	if !ok {
		return user{}, false
	}
	return rc.d.userSnapshot(key)
}

// namesUser reports whether name (an email, or an alias where the tenant
// allows username sign-in) is the account username.
func (rc *reqCtx) namesUser(name, username string) bool {
	if normalizeUsername(name) == normalizeUsername(username) {
		return true
	}
	if !rc.t.cfg.UsernameSignIn {
		return false
	}
	key, ok := rc.d.aliases.get(strings.ToLower(name))
	return ok && key == normalizeUsername(username)
}

// validSignInName accepts an email, or an alias where the tenant allows
// username sign-in.
func (t *tenant) validSignInName(name string) bool {
	return validUsername(name) || (t.cfg.UsernameSignIn && aliasRE.MatchString(name))
}

// backdoorMethods renders a user's methods for the backdoor.
func backdoorMethods(ms []strongMethod) []backdoor.StrongMethod {
	if len(ms) == 0 {
		return nil
	}
	out := make([]backdoor.StrongMethod, len(ms))
	for i, m := range ms {
		out[i] = backdoor.StrongMethod{Channel: m.channel, Target: m.target}
	}
	return out
}

// bdSetStrongMethods: PUT users/{username}/strong_methods.
func (e *Emulator) bdSetStrongMethods(rc *reqCtx, name string) {
	var in []backdoor.StrongMethod
	if !rc.readJSON(&in) {
		return
	}
	if err := validStrongMethods(in); err != nil {
		rc.fail(badBackdoor(http.StatusBadRequest, err.Error()))
		return
	}
	var out user
	found := false
	rc.d.users.update(normalizeUsername(name), func(cur *user, ok bool) (*user, bool) {
		if !ok {
			return nil, false
		}
		found = true
		nu := *cur
		nu.methods = compileStrongMethods(in)
		out = nu
		return &nu, true
	})
	if !found {
		rc.fail(errBackdoorNoUser())
		return
	}
	rc.writeJSON(http.StatusOK, backdoorUser(out))
}

// validateMFAConfig checks the MFA settings and the seeded users' extras.
func validateMFAConfig(c backdoor.Config) error {
	for i, m := range c.MFA.Methods {
		if m != backdoor.StrongMethodEmail && m != backdoor.StrongMethodSMS {
			return fmt.Errorf("mfa.methods[%d] %q: want %q or %q", i, m, backdoor.StrongMethodEmail, backdoor.StrongMethodSMS)
		}
	}
	if c.MFA.Enabled && len(c.MFA.Methods) == 0 {
		return fmt.Errorf("mfa.methods: MFA is enabled but no method (%q, %q) is", backdoor.StrongMethodEmail, backdoor.StrongMethodSMS)
	}
	for i, n := range c.MFA.BlockedNumbers {
		if !phoneRE.MatchString(n) {
			return fmt.Errorf("mfa.blocked_numbers[%d] %q is not an E.164 phone number", i, n)
		}
	}
	for i, p := range c.MFA.BlockedRegions {
		if !regexp.MustCompile(`^\+[1-9][0-9]{0,5}$`).MatchString(p) {
			return fmt.Errorf("mfa.blocked_regions[%d] %q: want a prefix such as +999", i, p)
		}
	}
	aliases := map[string]bool{}
	for i, u := range c.Users {
		if u.Alias != "" {
			if !aliasRE.MatchString(u.Alias) {
				return fmt.Errorf("users[%d] alias %q: want letters, digits, '.', '_' or '-', not an email", i, u.Alias)
			}
			if aliases[strings.ToLower(u.Alias)] {
				return fmt.Errorf("users[%d] alias %q appears twice", i, u.Alias)
			}
			aliases[strings.ToLower(u.Alias)] = true
		}
		if err := validStrongMethods(u.StrongMethods); err != nil {
			return fmt.Errorf("users[%d] %w", i, err)
		}
	}
	return nil
}
