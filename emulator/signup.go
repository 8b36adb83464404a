package emulator

import (
	"errors"
	"net/http"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// signUpNeeds is what the app's challenge_type list must hold for this
// tenant's sign-up: oob to verify the email, and password on a password
// tenant. Anything less is answered with a redirect.
func (t *tenant) signUpNeeds() challengeSet {
	if t.cfg.SignUpMethod == nativeauth.SignUpMethodPassword {
		return chOOB | chPassword
	}
	return chOOB
}

func (t *tenant) passwordTenant() bool { return t.cfg.SignUpMethod == nativeauth.SignUpMethodPassword }

// signUpStart: /signup/v1.0/start.
func (e *Emulator) signUpStart(rc *reqCtx) {
	username, set, ok := rc.readStart(validUsername)
	if !ok {
		return
	}
	attrs, ae := parseAttributes(rc.f.get(nativeauth.ParamAttributes))
	if ae != nil {
		rc.fail(ae)
		return
	}
	if need := rc.t.signUpNeeds(); set&need != need {
		rc.redirect("The challenge_type list does not contain every method this tenant's sign-up requires.")
		return
	}
	if _, exists := rc.d.userSnapshot(normalizeUsername(username)); exists {
		rc.fail(newErr(nativeauth.ErrUserAlreadyExists, nativeauth.CodeUserAlreadyExists,
			"It looks like you may already have an account. Please sign in instead."))
		return
	}
	var pw string
	if rc.t.passwordTenant() {
		pw = rc.f.get(nativeauth.ParamPassword)
		if pw != "" {
			if sub := checkPassword(rc.t.cfg.PasswordPolicy, rc.t.banned, pw); sub != "" {
				rc.fail(errPassword(sub))
				return
			}
		}
	}
	known := rc.t.keepKnown(attrs, false)
	if bad := rc.t.validateAttributes(known); len(bad) > 0 {
		rc.fail(errInvalidAttributes(bad))
		return
	}
	rc.grantStart(kindSignUp, stepSignUpStarted, username, set, rc.t.signUpSecondFactorNeed(), func(f *flow) {
		f.password, f.attributes = pw, known
	})
}

// signUpChallenge: /signup/v1.0/challenge. Before the email is verified it
// sends an OTP (oob); after, on a password tenant still lacking a password,
// it asks for the password.
func (rc *reqCtx) signUpChallenge(f *flow, id flowID) {
	set, ok := rc.challengeList(f)
	if !ok {
		return
	}
	if !f.verified {
		if !set.has(chOOB) {
			rc.redirect("The email must be verified with a one-time passcode, which the app does not support.")
			return
		}
		rc.sendOTP(f, "signup")
		tok := rc.issue(f, id, stepSignUpOOBSent)
		rc.writeJSON(http.StatusOK, rc.oobBody(f, tok))
		return
	}
	if !set.has(chPassword) {
		rc.redirect("A password is required, which the app does not support.")
		return
	}
	tok := rc.issue(f, id, stepSignUpPasswordChallenged)
	rc.writeJSON(http.StatusOK, passwordChallengeBody{ChallengeType: nativeauth.ChallengeTypePassword, ContinuationToken: tok})
}

// signUpContinue: /signup/v1.0/continue with grant oob, password or
// attributes.
func (rc *reqCtx) signUpContinue(f *flow, id flowID) {
	if rc.t.cfg.OTP.EmailDisabled {
		// Both pages' continue tables: invalid_request when "the tenant
		// administrator hasn't enabled email OTP for all tenant users".
		rc.fail(newErr(nativeauth.ErrInvalidRequest, codeEmailOTPDisabled,
			"Email one-time passcode is not enabled for the users of this tenant."))
		return
	}
	gt, ok := rc.grantType()
	if !ok {
		return
	}
	switch gt {
	case nativeauth.GrantTypeOOB:
		if !rc.otpGrant(nativeauth.GrantTypeOOB, f, stepSignUpOOBSent) {
			return
		}
		f.verified = true
		rc.signUpNext(f, id)
	case nativeauth.GrantTypePassword:
		rc.signUpPassword(f, id, gt)
	case nativeauth.GrantTypeAttributes:
		rc.signUpAttributes(f, id, gt)
	default:
		rc.fail(errWrongGrant(gt))
	}
}

// signUpPassword is the password grant of /signup/v1.0/continue.
func (rc *reqCtx) signUpPassword(f *flow, id flowID, gt nativeauth.GrantType) {
	if !rc.t.passwordTenant() {
		rc.fail(errWrongGrant(gt))
		return
	}
	pw, ok := rc.newPassword(nativeauth.ParamPassword)
	if !ok {
		return
	}
	switch {
	case !f.verified:
		f.password = pw
		rc.verificationRequired(f, id)
	case f.step == stepSignUpNeedCredential || f.step == stepSignUpPasswordChallenged:
		f.password = pw
		rc.signUpNext(f, id)
	default:
		rc.fail(errWrongGrant(gt))
	}
}

// signUpAttributes is the attributes grant of /signup/v1.0/continue.
func (rc *reqCtx) signUpAttributes(f *flow, id flowID, gt nativeauth.GrantType) {
	raw := rc.f.get(nativeauth.ParamAttributes)
	if raw == "" {
		rc.fail(errMissing(nativeauth.ParamAttributes))
		return
	}
	attrs, ae := parseAttributes(raw)
	if ae != nil {
		rc.fail(ae)
		return
	}
	if f.verified && f.step != stepSignUpNeedAttributes {
		rc.fail(errWrongGrant(gt))
		return
	}
	// Before the email is verified optional attributes are welcome;
	// after it, only required ones are (the pages' table).
	known := rc.t.keepKnown(attrs, f.verified)
	if bad := rc.t.validateAttributes(known); len(bad) > 0 {
		rc.fail(errInvalidAttributes(bad))
		return
	}
	if f.attributes == nil && len(known) > 0 {
		f.attributes = make(map[string]string, len(known))
	}
	for k, v := range known {
		f.attributes[k] = v
	}
	if !f.verified {
		rc.verificationRequired(f, id)
		return
	}
	rc.signUpNext(f, id)
}

// verificationRequired keeps what was submitted and tells the app the
// email must be verified first.
func (rc *reqCtx) verificationRequired(f *flow, id flowID) {
	ae := newErr(nativeauth.ErrVerificationRequired, codeVerificationRequired,
		"The username must be verified with a one-time passcode before the account can be created.")
	ae.UnverifiedAttributes = []nativeauth.AttributeSpec{{Name: "email"}}
	rc.failAt(f, id, f.step, ae)
}

// signUpNext answers what a verified sign-up still lacks, or creates the
// account.
func (rc *reqCtx) signUpNext(f *flow, id flowID) {
	// The tenant may have changed its method since start (an administrator
	// switched the user flow to email with password): an app whose
	// challenge_type list cannot give what it now needs falls back to the
	// web, as the pages' continue examples show.
	if rc.t.passwordTenant() && f.password == "" && !f.challenges.has(chPassword) {
		rc.finish(f, id)
		rc.redirect("The tenant's sign-up now needs a method the app did not list in challenge_type.")
		return
	}
	if rc.t.passwordTenant() && f.password == "" {
		rc.failAt(f, id, stepSignUpNeedCredential, newErr(nativeauth.ErrCredentialRequired, nativeauth.CodeCredentialRequired, "Credential required."))
		return
	}
	if miss := rc.t.missingRequired(f.attributes); len(miss) > 0 {
		ae := newErr(nativeauth.ErrAttributesRequired, nativeauth.CodeAttributesRequired, "User attributes required.")
		ae.RequiredAttributes = miss
		rc.failAt(f, id, stepSignUpNeedAttributes, ae)
		return
	}
	if rc.t.cfg.FailUserCreation {
		rc.finish(f, id)
		rc.fail(newErr(nativeauth.ErrInvalidRequest, nativeauth.CodeUserCreationFailed, "User creation failed during self-service sign-up."))
		return
	}
	if _, err := rc.e.createUser(rc.d, f.username, f.password, f.attributes); err != nil {
		rc.finish(f, id)
		if errors.Is(err, errUserExists) {
			rc.fail(newErr(nativeauth.ErrUserAlreadyExists, nativeauth.CodeUserAlreadyExists,
				"It looks like you may already have an account. Please sign in instead."))
			return
		}
		rc.fail(newErr(nativeauth.ErrInvalidRequest, nativeauth.CodeUserCreationFailed, "User creation failed during self-service sign-up."))
		return
	}
	// The account holds the secrets now; the flow keeps only what the
	// token call checks.
	f.password, f.attributes = "", nil
	tok := rc.issue(f, id, stepSignUpDone)
	rc.writeJSON(http.StatusOK, continuationBody{ContinuationToken: tok})
}
