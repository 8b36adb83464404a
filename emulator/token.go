package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ciamcheck/ciamcheck/emulator/tokens"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// codeInvalidRefreshToken: AADSTS70000, provided grant is invalid.
const codeInvalidRefreshToken = 70000

type tokenBody struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// scopeSet is a validated scope list and the resource it is for.
type scopeSet struct {
	list     []string
	resource string // client ID of the API, "" when only OIDC scopes
	openid   bool
	offline  bool
}

// parseScopes accepts the OIDC scopes and scopes of one registered app's
// API ("{clientID}/.default", "api://{clientID}/name"); anything else, or
// scopes of two resources, is invalid_scope.
func (t *tenant) parseScopes(s string) (scopeSet, *apiError) {
	var out scopeSet
	seen := map[string]bool{}
	for _, sc := range strings.Fields(s) {
		if seen[sc] {
			continue
		}
		seen[sc] = true
		res := ""
		switch sc {
		case nativeauth.ScopeOpenID:
			out.openid = true
		case nativeauth.ScopeOfflineAccess:
			out.offline = true
		case nativeauth.ScopeProfile, nativeauth.ScopeEmail:
		default:
			res = t.scopeResource(sc)
			if res == "" {
				return scopeSet{}, newErr(nativeauth.ErrInvalidScope, codeInvalidScope,
					fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope '%s' does not exist.", sanitizeEcho(sc)))
			}
		}
		if res != "" {
			if out.resource != "" && !strings.EqualFold(out.resource, res) {
				return scopeSet{}, newErr(nativeauth.ErrInvalidScope, codeInvalidScope,
					"The provided value for the input parameter 'scope' is not valid. All scopes must be from a single resource.")
			}
			out.resource = res
		}
		out.list = append(out.list, sc)
	}
	if len(out.list) == 0 {
		return scopeSet{}, errMissing(nativeauth.ParamScope)
	}
	return out, nil
}

// checkConsent refuses scopes the app has no consent for: invalid_request
// ("the client/app doesn't have consent for the requested scopes", the
// sign-up token tables) with Entra's consent code 65001.
func (rc *reqCtx) checkConsent(s scopeSet) *apiError {
	for _, sc := range s.list {
		for _, no := range rc.app.NoConsent {
			if strings.EqualFold(sc, no) {
				return newErr(nativeauth.ErrInvalidRequest, codeConsentRequired,
					fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' for the scope '%s'.", rc.app.ClientID, sanitizeEcho(sc)))
			}
		}
	}
	return nil
}

// scopeResource returns the registered client ID a resource scope names.
func (t *tenant) scopeResource(sc string) string {
	rest := strings.TrimPrefix(sc, "api://")
	i := strings.IndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		return ""
	}
	id, name := rest[:i], rest[i+1:]
	app, ok := t.apps[strings.ToLower(id)]
	if !ok {
		return ""
	}
	if rest == sc && name != ".default" {
		// Without api:// only the .default scope of an app ID is accepted.
		return ""
	}
	return app.ClientID
}

// token: /oauth2/v2.0/token for the password, oob, continuation_token and
// refresh_token grants.
func (e *Emulator) token(rc *reqCtx) {
	if !rc.parse() {
		return
	}
	gt, ok := rc.grantType()
	if !ok {
		return
	}
	switch gt {
	case nativeauth.GrantTypePassword, nativeauth.GrantTypeOOB, nativeauth.GrantTypeContinuationToken, nativeauth.GrantTypeRefreshToken,
		nativeauth.GrantTypeMFAOOB:
	default:
		rc.fail(newErr(nativeauth.ErrUnsupportedGrantType, codeUnsupportedGrantType,
			fmt.Sprintf("The grant type '%s' is not supported.", sanitizeEcho(string(gt)))))
		return
	}
	if gt == nativeauth.GrantTypeRefreshToken {
		e.refreshGrant(rc)
		return
	}
	scopes, ae := rc.t.parseScopes(rc.f.get(nativeauth.ParamScope))
	if ae == nil {
		ae = rc.checkConsent(scopes)
	}
	if ae != nil {
		rc.fail(ae)
		return
	}
	kind := kindSignIn
	if gt == nativeauth.GrantTypeContinuationToken || gt == nativeauth.GrantTypeMFAOOB {
		kind = 0 // sign-up, reset, or the second factor of any flow
	}
	f, id, ok := rc.openFlow(kind, nativeauth.ErrInvalidGrant)
	if !ok {
		return
	}
	defer f.mu.Unlock()
	if !rc.redeemGrant(gt, f, id) {
		return
	}
	u, ok := rc.flowUser(f, id)
	if !ok {
		return
	}
	if rc.secondFactor(f, id, u) {
		return
	}
	rc.finish(f, id)
	rc.issueTokens(u, scopes)
}

// redeemGrant checks what the grant gt proves for the flow f at its step
// (a password, an OTP, a finished sign-up, reset or registration). It
// answers the error itself and reports whether tokens may follow.
func (rc *reqCtx) redeemGrant(gt nativeauth.GrantType, f *flow, id flowID) bool {
	switch gt {
	case nativeauth.GrantTypePassword:
		return rc.passwordGrant(gt, f, id)
	case nativeauth.GrantTypeOOB:
		return rc.otpGrant(gt, f, stepSignInOOBSent)
	case nativeauth.GrantTypeMFAOOB:
		if !rc.otpGrant(gt, f, stepMFAOOBSent) {
			return false
		}
		f.mfaDone = true
	case nativeauth.GrantTypeContinuationToken:
		return rc.continuationGrant(gt, f)
	}
	return true
}

// passwordGrant checks the password grant of a sign-in flow.
func (rc *reqCtx) passwordGrant(gt nativeauth.GrantType, f *flow, id flowID) bool {
	if f.step != stepSignInPasswordChallenged {
		rc.fail(errWrongGrant(gt))
		return false
	}
	pw := rc.f.get(nativeauth.ParamPassword)
	if pw == "" {
		rc.fail(errMissing(nativeauth.ParamPassword))
		return false
	}
	// MSAL iOS adds username to the password grant; the pages do not
	// list it. Sent, it must be the flow's user, as on the
	// continuation_token grant: the token stays bound to its user. The
	// user may have typed their alias (username sign-in).
	if un := rc.f.get(nativeauth.ParamUsername); un != "" && !rc.namesUser(un, f.username) {
		rc.fail(errUsernameMismatch())
		return false
	}
	u, ok := rc.flowUser(f, id)
	if !ok {
		return false
	}
	if !u.hasPassword || !hashPassword(u.salt[:], pw).equal(u.hash) {
		// The flow stays open: the user may type the password again.
		rc.fail(newErr(nativeauth.ErrInvalidGrant, nativeauth.CodeInvalidCredentials,
			"Error validating credentials due to invalid username or password."))
		return false
	}
	if u.resetRequired {
		// invalid_request, not invalid_grant: Microsoft's JS and iOS
		// clients recognise password-reset-required only as
		// invalid_request with 50142 (client-facts.md).
		rc.fail(newErr(nativeauth.ErrInvalidRequest, nativeauth.CodePasswordResetRequired,
			"The password must be reset before the user can sign in."))
		return false
	}
	return true
}

// otpGrant checks an OTP grant (oob, mfa_oob) of a flow that sent the
// code at step sent.
func (rc *reqCtx) otpGrant(gt nativeauth.GrantType, f *flow, sent step) bool {
	if f.step != sent {
		rc.fail(errWrongGrant(gt))
		return false
	}
	if ae := rc.checkOTP(f); ae != nil {
		rc.fail(ae)
		return false
	}
	return true
}

// continuationGrant checks the continuation_token grant that ends a
// sign-up, a reset or a registration with tokens.
func (rc *reqCtx) continuationGrant(gt nativeauth.GrantType, f *flow) bool {
	if f.step != stepSignUpDone && f.step != stepResetDone && f.step != stepRegDone {
		rc.fail(errWrongGrant(gt))
		return false
	}
	un := rc.f.get(nativeauth.ParamUsername)
	// After registration the JS client sends no username (client-facts).
	if un == "" && f.step != stepRegDone {
		rc.fail(errMissing(nativeauth.ParamUsername))
		return false
	}
	if un != "" && normalizeUsername(un) != normalizeUsername(f.username) {
		rc.fail(errUsernameMismatch())
		return false
	}
	return true
}

func errUsernameMismatch() *apiError {
	return newErr(nativeauth.ErrInvalidGrant, codeInvalidOrExpiredTokens,
		"The username does not match the continuation_token.")
}

// refreshGrant redeems a refresh token once and rotates it.
func (e *Emulator) refreshGrant(rc *reqCtx) {
	rt := rc.f.get(nativeauth.ParamRefreshToken)
	if rt == "" {
		rc.fail(errMissing(nativeauth.ParamRefreshToken))
		return
	}
	invalid := func() {
		rc.fail(newErr(nativeauth.ErrInvalidGrant, codeInvalidRefreshToken,
			"Provided grant is invalid or malformed: the refresh token is unknown, expired, already used or for another client."))
	}
	g, ok := rc.d.refresh.lookup(rt)
	if !ok || g.expires <= rc.now.UnixMilli() || !strings.EqualFold(g.clientID, rc.app.ClientID) {
		invalid()
		return
	}
	// The request is checked before the grant is redeemed: a request the
	// tenant refuses (a mistyped scope) must not cost the app its session.
	raw := rc.f.get(nativeauth.ParamScope)
	if strings.TrimSpace(raw) == "" {
		raw = strings.Join(g.scopes, " ")
	}
	scopes, ae := rc.t.parseScopes(raw)
	if ae == nil {
		ae = rc.checkConsent(scopes)
	}
	if ae != nil {
		rc.fail(ae)
		return
	}
	// offline_access carries over: the app holds a refresh token already.
	scopes.offline = true
	u, ok := rc.d.userSnapshot(g.username)
	if !ok {
		rc.fail(errUserNotFound())
		return
	}
	// Redeem: rotation removes the grant, and only one of two concurrent
	// requests with the same token may win it.
	if !rc.d.refresh.redeem(rt, g) {
		invalid()
		return
	}
	rc.issueTokens(u, scopes)
}

// issueTokens answers a successful token call.
func (rc *reqCtx) issueTokens(u user, sc scopeSet) {
	base := rc.e.baseURL(rc.r, rc.t)
	is, err := rc.e.issuerFor(base)
	if err != nil {
		rc.internal("token issuer", err)
		return
	}
	ttl := rc.t.cfg.Tokens.AccessTokenLifetime.D()
	claims := tokens.Claims{
		Subject:           u.objectID,
		ObjectID:          u.objectID,
		TenantID:          rc.t.cfg.TenantID,
		Audience:          rc.app.ClientID,
		ClientID:          rc.app.ClientID,
		PreferredUsername: u.username,
		Email:             u.username,
		Name:              u.attributes["displayName"],
		Scopes:            sc.list,
	}
	body := tokenBody{
		TokenType:    "Bearer",
		Scope:        strings.Join(sc.list, " "),
		ExpiresIn:    int(ttl.Seconds()),
		ExtExpiresIn: int(ttl.Seconds()),
	}
	if sc.openid {
		if body.IDToken, err = is.IDToken(claims, rc.now, ttl); err != nil {
			rc.internal("id token", err)
			return
		}
	}
	access := claims
	if sc.resource != "" {
		access.Audience = sc.resource
	}
	if body.AccessToken, err = is.AccessToken(access, rc.now, ttl); err != nil {
		rc.internal("access token", err)
		return
	}
	if sc.offline {
		body.RefreshToken = rc.d.refresh.issue(&refreshGrant{
			username: normalizeUsername(u.username),
			clientID: rc.app.ClientID,
			scopes:   sc.list,
			expires:  rc.now.Add(rc.t.cfg.Tokens.RefreshTokenLifetime.D()).UnixMilli(),
		}, rc.t.cfg.Tokens.MaxRefreshTokens)
	}
	if ci := rc.f.get(nativeauth.ParamClientInfo); ci == "1" || strings.EqualFold(ci, "true") {
		b, _ := json.Marshal(struct {
			UID  string `json:"uid"`
			UTID string `json:"utid"`
		}{u.objectID, rc.t.cfg.TenantID})
		body.ClientInfo = base64.RawURLEncoding.EncodeToString(b)
	}
	h := rc.w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	rc.writeJSON(http.StatusOK, body)
}

// internal answers a failure of the emulator itself (never of input).
func (rc *reqCtx) internal(what string, err error) {
	rc.e.log.Error("internal error", "what", what, "err", err)
	rc.fail(&apiError{status: http.StatusInternalServerError, Error: nativeauth.ErrInvalidRequest, Code: codeInternal,
		Message: "An internal error occurred."})
}
