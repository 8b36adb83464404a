package emulator

import (
	"net/http"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// maxResetExpiresIn is the pages' cap on expires_in from reset continue.
const maxResetExpiresIn = 600

type resetContinueBody struct {
	ExpiresIn         int    `json:"expires_in"`
	ContinuationToken string `json:"continuation_token"`
}

type resetSubmitBody struct {
	ContinuationToken string `json:"continuation_token"`
	PollInterval      int    `json:"poll_interval"`
}

type resetPollBody struct {
	Status            nativeauth.PollStatus `json:"status"`
	ContinuationToken string                `json:"continuation_token,omitempty"`
}

// resetStart: /resetpassword/v1.0/start.
func (e *Emulator) resetStart(rc *reqCtx) {
	username, set, ok := rc.readStart(validUsername)
	if !ok {
		return
	}
	if rc.ssprDisabled() {
		return
	}
	if !set.has(chOOB) {
		rc.redirect("Password reset needs an email one-time passcode, which the app does not support.")
		return
	}
	u, ok := rc.d.userSnapshot(normalizeUsername(username))
	if !ok {
		rc.fail(errUserNotFound())
		return
	}
	rc.grantStart(kindReset, stepResetStarted, u.username, set, rc.t.secondFactorNeed(u), nil)
}

// resetChallenge: /resetpassword/v1.0/challenge sends an OTP.
func (rc *reqCtx) resetChallenge(f *flow, id flowID) {
	set, ok := rc.challengeList(f)
	if !ok {
		return
	}
	if !set.has(chOOB) {
		rc.redirect("Password reset needs an email one-time passcode, which the app does not support.")
		return
	}
	rc.sendOTP(f, "sspr")
	tok := rc.issue(f, id, stepResetOOBSent)
	body := rc.oobBody(f, tok)
	body.Interval = nil // the reset challenge answer has no interval
	rc.writeJSON(http.StatusOK, body)
}

// resetContinue: /resetpassword/v1.0/continue verifies the OTP.
func (rc *reqCtx) resetContinue(f *flow, id flowID) {
	gt, ok := rc.grantType()
	if !ok {
		return
	}
	if gt != nativeauth.GrantTypeOOB {
		rc.fail(errWrongGrant(gt))
		return
	}
	if !rc.otpGrant(gt, f, stepResetOOBSent) {
		return
	}
	f.verified = true // register challenge may take this email as preverified
	tok := rc.issue(f, id, stepResetVerified)
	in := expiresIn(rc.now, f.expires)
	if in > maxResetExpiresIn {
		in = maxResetExpiresIn
	}
	rc.writeJSON(http.StatusOK, resetContinueBody{ExpiresIn: in, ContinuationToken: tok})
}

// ssprDisabled answers invalid_request when the tenant does not offer
// self-service password reset, and says so. The password page's table puts
// this under /continue ("the external tenant administrator hasn't enabled
// SSPR and email OTP for all tenant users"); start refuses too, so a reset
// begun before an administrator turned SSPR off stops at the next check.
func (rc *reqCtx) ssprDisabled() bool {
	if rc.t.cfg.SSPR.Enabled {
		return false
	}
	rc.fail(newErr(nativeauth.ErrInvalidRequest, codeSSPRDisabled,
		"Self-service password reset is not enabled for the users of this tenant."))
	return true
}

// resetSubmit: /resetpassword/v1.0/submit takes the new password.
func (rc *reqCtx) resetSubmit(f *flow, id flowID) {
	np, ok := rc.newPassword(nativeauth.ParamNewPassword)
	if !ok {
		return
	}
	u, ok := rc.flowUser(f, id)
	if !ok {
		return
	}
	if recentlyUsed(u, np, rc.t.cfg.PasswordPolicy.History) {
		rc.fail(errPassword(nativeauth.SuberrorPasswordRecentlyUsed))
		return
	}
	f.password, f.pollIdx = np, 0
	tok := rc.issue(f, id, stepResetPolling)
	rc.writeJSON(http.StatusOK, resetSubmitBody{ContinuationToken: tok, PollInterval: rc.t.cfg.SSPR.PollInterval})
}

// recentlyUsed reports whether pw is the current password or one of the
// history-1 before it.
func recentlyUsed(u user, pw string, history int) bool {
	if history <= 0 {
		return false
	}
	h := hashPassword(u.salt[:], pw)
	if u.hasPassword && h.equal(u.hash) {
		return true
	}
	for i, old := range u.history {
		if i >= history-1 {
			break
		}
		if h.equal(old) {
			return true
		}
	}
	return false
}

// resetPoll: /resetpassword/v1.0/poll_completion walks the configured
// status sequence, one status per poll.
func (rc *reqCtx) resetPoll(f *flow, id flowID) {
	seq := rc.t.cfg.SSPR.PollSequence
	i := int(f.pollIdx)
	if i >= len(seq) {
		i = len(seq) - 1
	}
	status := seq[i]
	if f.pollIdx < 255 {
		f.pollIdx++
	}
	switch status {
	case nativeauth.PollStatusSucceeded:
		if !rc.applyNewPassword(f.username, f.password) {
			rc.finish(f, id)
			rc.fail(errUserNotFound())
			return
		}
		f.password = ""
		tok := rc.issue(f, id, stepResetDone)
		rc.writeJSON(http.StatusOK, resetPollBody{Status: status, ContinuationToken: tok})
	case nativeauth.PollStatusFailed:
		// The app may submit a new password with this token.
		f.password = ""
		tok := rc.issue(f, id, stepResetVerified)
		rc.writeJSON(http.StatusOK, resetPollBody{Status: status, ContinuationToken: tok})
	default:
		// Still working: the same token keeps polling.
		rc.writeJSON(http.StatusOK, resetPollBody{Status: status, ContinuationToken: rc.f.get(nativeauth.ParamContinuationToken)})
	}
}

// applyNewPassword replaces the user's password, keeping history.
func (rc *reqCtx) applyNewPassword(username, pw string) bool {
	found := false
	keep := rc.t.cfg.PasswordPolicy.History - 1
	rc.d.users.update(normalizeUsername(username), func(u *user, ok bool) (*user, bool) {
		if !ok {
			return nil, false
		}
		found = true
		nu := *u
		if u.hasPassword && keep > 0 {
			nu.history = append([]passwordHash{u.hash}, u.history...)
			if len(nu.history) > keep {
				nu.history = nu.history[:keep]
			}
		}
		nu.hash, nu.hasPassword, nu.resetRequired = hashPassword(u.salt[:], pw), true, false
		return &nu, true
	})
	return found
}
