package emulator

import (
	"net/http"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// signInMethod is the credential a user signs in with: the password on a
// password tenant (an OTP is not offered to password users), an OTP on an
// OTP tenant or for an account that has no password.
func (t *tenant) signInMethod(u user) challengeSet {
	if t.passwordTenant() && u.hasPassword {
		return chPassword
	}
	return chOOB
}

func errUserNotFound() *apiError {
	return newErr(nativeauth.ErrUserNotFound, nativeauth.CodeUserNotFound,
		"The user account does not exist in the directory.")
}

// signInInitiate: /oauth2/v2.0/initiate.
func (e *Emulator) signInInitiate(rc *reqCtx) {
	username, set, ok := rc.readStart(rc.t.validSignInName)
	if !ok {
		return
	}
	u, ok := rc.resolveSignInName(username)
	if !ok {
		rc.fail(errUserNotFound())
		return
	}
	if !set.has(rc.t.signInMethod(u)) {
		rc.redirect("The challenge_type list does not contain the method this user signs in with.")
		return
	}
	rc.grantStart(kindSignIn, stepSignInStarted, u.username, set, rc.t.secondFactorNeed(u), nil)
}

// signInChallenge: /oauth2/v2.0/challenge.
func (e *Emulator) signInChallenge(rc *reqCtx) {
	if !rc.parse() {
		return
	}
	if _, ok := rc.f[string(nativeauth.ParamID)]; ok {
		e.mfaChallenge(rc)
		return
	}
	f, id, ok := rc.openFlow(kindSignIn, nativeauth.ErrInvalidGrant)
	if !ok {
		return
	}
	defer f.mu.Unlock()
	if isSecondFactorStep(f.step) {
		// A second-factor challenge names the method; without it the call
		// would restart the first factor.
		rc.fail(errMissing(nativeauth.ParamID))
		return
	}
	set, ok := rc.challengeList(f)
	if !ok {
		return
	}
	u, ok := rc.flowUser(f, id)
	if !ok {
		return
	}
	method := rc.t.signInMethod(u)
	if !set.has(method) {
		rc.redirect("The challenge_type list does not contain the method this user signs in with.")
		return
	}
	if method == chPassword {
		tok := rc.issue(f, id, stepSignInPasswordChallenged)
		rc.writeJSON(http.StatusOK, passwordChallengeBody{ChallengeType: nativeauth.ChallengeTypePassword, ContinuationToken: tok})
		return
	}
	rc.sendOTP(f, "signin")
	tok := rc.issue(f, id, stepSignInOOBSent)
	rc.writeJSON(http.StatusOK, rc.oobBody(f, tok))
}
