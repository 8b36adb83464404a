package catalog

import (
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

// Section paths of the pages, heading lines joined by " / ". The two pages
// spell the sign-up heading differently ("Sign-up" and "Sign up").
const (
	pwSignUp        = "Sign-up API reference"
	pwSUStart       = pwSignUp + " / Step 1: Request to start the sign-up flow"
	pwSUChallenge   = pwSignUp + " / Step 2: Select an authentication method"
	pwSUOOB         = pwSignUp + " / Step 3: Submit one-time passcode"
	pwSUPassword    = pwSignUp + " / Step 4: Authenticate and get token to sign in"
	pwSUAttributes  = pwSignUp + " / Submit user attributes"
	pwSUToken       = pwSignUp + " / Step 5: Request for security tokens"
	pwSignIn        = "Sign-in API reference"
	pwSIInitiate    = pwSignIn + " / Step 1: Request to start the sign-in flow"
	pwSIChallenge   = pwSignIn + " / Step 2: Select an authentication method"
	pwSIToken       = pwSignIn + " / Step 3: Request for security tokens"
	pwSSPR          = "Self-service password reset (SSPR)"
	pwSSPRStart     = pwSSPR + " / Step 1: Request to start the self-service password reset flow"
	pwSSPRChallenge = pwSSPR + " / Step 2: Select an authentication method"
	pwSSPRContinue  = pwSSPR + " / Step 3: Submit one-time passcode"
	pwSSPRSubmit    = pwSSPR + " / Step 4: Submit a new password"
	pwSSPRPoll      = pwSSPR + " / Step 5: Poll for password reset status"

	otpSignUp      = "Sign up API reference"
	otpSUStart     = otpSignUp + " / Step 1: Request to start the sign-up flow"
	otpSUChallenge = otpSignUp + " / Step 2: Select an authentication method"
	otpSUOOB       = otpSignUp + " / Step 3: Submit OTP"
	// The OTP page titles its attributes step "Authenticate and get token
	// to sign in", the password page's title for submitting a password.
	otpSUAttributes = otpSignUp + " / Step 4: Authenticate and get token to sign in"
	otpSUToken      = otpSignUp + " / Step 5: Request for security tokens"
	otpSignIn       = "Sign-in API reference"
	otpSIInitiate   = otpSignIn + " / Step 1: Request to start the sign-in flow"
	otpSIChallenge  = otpSignIn + " / Step 2: Select an authentication method"
	otpSIToken      = otpSignIn + " / Step 3: Request for security tokens"

	success  = " / Success response"
	errResp  = " / Error response"
	tokenOK  = " / Successful response"
	redirect = `"challenge_type": "redirect"`
	ctRow    = "continuation_token Continuation token that Microsoft Entra returns."
)

// Table rows quoted by several entries.
const (
	rowInvalidClient          = "invalid_client The client ID that the app includes in the request is for an app that lacks native authentication configuration, such as it isn't a public client or isn't enabled for native authentication."
	rowDisabled               = "nativeauthapi_disabled The client ID for an app that isn't enable for native authentication."
	rowUnauthorizedClient     = "unauthorized_client The client ID used in the request has a valid client ID format, but doesn't exist in the external tenant or is incorrect."
	rowUnsupportedChallenge   = "unsupported_challenge_type The challenge_type parameter value doesn't include the redirect challenge type."
	rowUserNotFound           = "user_not_found The username doesn't exist."
	rowExpiredShort           = "expired_token The continuation token is expired."
	rowExpiredLong            = "expired_token The continuation token included in the request is expired."
	rowInvalidRequestCTInvald = "invalid_request Request parameter validation failed such as when the challenge_type parameter includes an invalid challenge type"
)

func pw(section, quote string) Source {
	return Source{Page: PagePassword, Section: section, Quote: quote}
}
func otp(section, quote string) Source { return Source{Page: PageOTP, Section: section, Quote: quote} }

// bothPages cites a quote the password page and the OTP page share, each
// under its own section.
func bothPages(pwSection, otpSection, quote string) opt {
	return src(pw(pwSection, quote), otp(otpSection, quote))
}
func codePage(section, quote string) Source {
	return Source{Page: PageErrorCodes, Section: section, Quote: quote}
}

// Field constructors.
func str(name string) Field { return Field{Name: name, JSONType: JSONString, Required: true} }
func strC(name, constraint string) Field {
	return Field{Name: name, JSONType: JSONString, Required: true, Constraint: constraint}
}
func val(name, value string) Field {
	return Field{Name: name, JSONType: JSONString, Required: true, Value: value}
}
func num(name, constraint string) Field {
	return Field{Name: name, JSONType: JSONNumber, Required: true, Constraint: constraint}
}
func arr(name, constraint string) Field {
	return Field{Name: name, JSONType: JSONArray, Required: true, Constraint: constraint}
}

var ctField = strC("continuation_token", "non-empty")

// startValid is the valid request of a flow's first step, which has no
// step before it and so no continuation token.
const startValid = "send the documented start request: client_id, username and challenge_type, and no continuation token, since the flow begins here"

// oobChallengeFields are the members of an oob challenge answer. The
// sign-up examples carry interval; the sign-in and SSPR examples do not.
func oobChallengeFields(interval bool) []Field {
	fs := []Field{
		ctField,
		val("challenge_type", string(nativeauth.ChallengeTypeOOB)),
		val("binding_method", nativeauth.BindingMethodPrompt),
		val("challenge_channel", nativeauth.ChallengeChannelEmail),
		strC("challenge_target_label", "masked email of the user"),
		num("code_length", "integer > 0"),
	}
	if interval {
		fs = append(fs, num("interval", "integer >= 0, seconds before a resend"))
	}
	return fs
}

// tokenFields are the members of a token answer when the request asked for
// "openid offline_access" plus the API scopes.
func tokenFields() []Field {
	return []Field{
		val("token_type", "Bearer"),
		strC("scope", "space-separated granted scopes"),
		num("expires_in", "integer > 0, seconds"),
		strC("access_token", "non-empty"),
		strC("refresh_token", "present because offline_access was requested"),
		strC("id_token", "JWT signed by the tenant; present because openid was requested"),
	}
}

var redirectFields = []Field{val("challenge_type", string(nativeauth.ChallengeTypeRedirect))}

// opt adjusts an entry under construction.
type opt func(*Entry)

func src(s ...Source) opt               { return func(e *Entry) { e.Source = append(e.Source, s...) } }
func needs(c ...profile.Capability) opt { return func(e *Entry) { e.Needs = append(e.Needs, c...) } }
func methods(m ...nativeauth.SignUpMethod) opt {
	return func(e *Entry) { e.Methods = append(e.Methods, m...) }
}
func flows(f ...Flow) opt { return func(e *Entry) { e.Flows = append(e.Flows, f...) } }
func fields(f ...Field) opt {
	return func(e *Entry) { e.Expect.Fields = append(e.Expect.Fields, f...) }
}
func absent(n ...string) opt {
	return func(e *Entry) { e.Expect.Absent = append(e.Expect.Absent, n...) }
}
func note(s string) opt { return func(e *Entry) { e.Notes = s } }

// inferred marks checks no table or rule of a page states: the aspects
// named (every checked aspect when none is named) rest on why (an example,
// a logs page, our reading). They are still checked; the entry's Basis
// becomes inferred, and the run record and reports say so.
func inferred(why string, aspects ...Aspect) opt {
	return func(e *Entry) {
		e.Normative.InferredWhy = why
		e.Normative.Inferred = append(e.Normative.Inferred, aspects...)
	}
}

// illustrative records aspects without checking them: the pages show them
// but do not state them.
func illustrative(aspects ...Aspect) opt {
	return func(e *Entry) { e.Normative.Illustrative = append(e.Normative.Illustrative, aspects...) }
}
func normNote(s string) opt    { return func(e *Entry) { e.Normative.Note = s } }
func triggerSays(s string) opt { return func(e *Entry) { e.Trigger.Description = s } }
func codes(c ...int) opt {
	return func(e *Entry) { e.Expect.ErrorCodes = append(e.Expect.ErrorCodes, c...) }
}
func accept(alt ...nativeauth.ErrorCode) opt {
	return func(e *Entry) { e.Expect.AlsoAccept = append(e.Expect.AlsoAccept, alt...) }
}
func normativeCodes(c ...int) opt {
	return func(e *Entry) {
		e.Expect.ErrorCodes = append(e.Expect.ErrorCodes, c...)
		e.Expect.ErrorCodesNormative = true
	}
}

func endpointFlow(ep nativeauth.Endpoint) Flow {
	switch ep {
	case nativeauth.EndpointSignUpStart, nativeauth.EndpointSignUpChallenge, nativeauth.EndpointSignUpContinue:
		return FlowSignUp
	case nativeauth.EndpointResetStart, nativeauth.EndpointResetChallenge, nativeauth.EndpointResetContinue,
		nativeauth.EndpointResetSubmit, nativeauth.EndpointResetPollCompletion:
		return FlowSSPR
	}
	return FlowSignIn
}

// entry builds an entry of any kind. The flow defaults to the endpoint's.
func entry(id, title string, kind Kind, ep nativeauth.Endpoint, t TriggerName, opts ...opt) Entry {
	e := Entry{ID: id, Title: title, Kind: kind, Endpoint: ep, Trigger: Trigger{Name: t}}
	for _, o := range opts {
		o(&e)
	}
	if len(e.Flows) == 0 {
		e.Flows = []Flow{endpointFlow(ep)}
	}
	return e
}

// errEntry builds an error entry from an endpoint's table.
func errEntry(id, title string, ep nativeauth.Endpoint, er nativeauth.ErrorCode, sub nativeauth.Suberror, t TriggerName, opts ...opt) Entry {
	e := entry(id, title, KindError, ep, t, opts...)
	e.Expect.Error = er
	e.Expect.Suberror = sub
	return e
}

// tableError is an error row that several endpoints' tables share: its ID
// suffix, title, error, suberror and trigger are the same wherever it
// stands; the sources and options are the endpoint's.
type tableError struct {
	suffix, title string
	err           nativeauth.ErrorCode
	sub           nativeauth.Suberror
	t             TriggerName
}

// at is the row's entry on the endpoint ep, whose IDs begin with prefix.
func (r tableError) at(prefix string, ep nativeauth.Endpoint, opts ...opt) Entry {
	return errEntry(prefix+".error."+r.suffix, r.title, ep, r.err, r.sub, r.t, opts...)
}

// The rows most tables share.
var (
	missingClientID = tableError{"invalid_request", "invalid_request without client_id",
		nativeauth.ErrInvalidRequest, "", TriggerMissingClientID}
	invalidChallengeType = tableError{"invalid_request.when_challenge_type_invalid", "invalid_request for an invalid challenge type",
		nativeauth.ErrInvalidRequest, "", TriggerChallengeTypeInvalid}
	noRedirect = tableError{"unsupported_challenge_type", "unsupported_challenge_type when challenge_type lacks redirect",
		nativeauth.ErrUnsupportedChallengeType, "", TriggerChallengeTypeWithoutRedirect}
	confidentialClient = tableError{"invalid_client", "invalid_client for a client that is not a public client",
		nativeauth.ErrInvalidClient, "", TriggerConfidentialClient}
	disabledClient = tableError{"invalid_client.nativeauthapi_disabled", "invalid_client/nativeauthapi_disabled for a client without native authentication",
		nativeauth.ErrInvalidClient, nativeauth.SuberrorNativeAuthAPIDisabled, TriggerDisabledClient}
	unknownClientID = tableError{"unauthorized_client", "unauthorized_client for a well-formed client ID the tenant does not know",
		nativeauth.ErrUnauthorizedClient, "", TriggerUnknownClientID}
	expiredToken = tableError{"expired_token", "expired_token for an expired continuation token",
		nativeauth.ErrExpiredToken, "", TriggerTokenExpired}
	tamperedToken = tableError{"invalid_grant", "invalid_grant for an invalid continuation token",
		nativeauth.ErrInvalidGrant, "", TriggerTokenTampered}
	tamperedTokenRequest = tableError{"invalid_request.continuation_token", "invalid_request for a tampered continuation token",
		nativeauth.ErrInvalidRequest, "", TriggerTokenTampered}
	wrongOOB = tableError{"invalid_grant.invalid_oob_value", "invalid_grant/invalid_oob_value for a wrong one-time passcode",
		nativeauth.ErrInvalidGrant, nativeauth.SuberrorInvalidOOBValue, TriggerOOBWrong}
)

// passwordSuberrors are the six password-policy suberrors of invalid_grant,
// with the trigger that provokes each, the capability it needs beyond the
// flow's, and the table row (its common prefix on every page).
var passwordSuberrors = []struct {
	sub   nativeauth.Suberror
	t     TriggerName
	needs []profile.Capability
	row   string
	title string
}{
	{nativeauth.SuberrorPasswordTooWeak, TriggerPasswordTooWeak, nil,
		"password_too_weak Password is too weak as it doesn't meet complexity requirements.", "a password that misses the complexity rules"},
	{nativeauth.SuberrorPasswordTooShort, TriggerPasswordTooShort, nil,
		"password_too_short New password is fewer than 8 characters.", "a password of fewer than 8 characters"},
	{nativeauth.SuberrorPasswordTooLong, TriggerPasswordTooLong, nil,
		"password_too_long New password is longer than 256 characters.", "a password of more than 256 characters"},
	{nativeauth.SuberrorPasswordRecentlyUsed, TriggerPasswordRecentlyUsed, []profile.Capability{profile.CapPasswordHistory},
		"password_recently_used The new password must not be the same as one recently used.", "a recently used password"},
	{nativeauth.SuberrorPasswordBanned, TriggerPasswordBanned, []profile.Capability{profile.CapBannedPasswords},
		"password_banned New password contains a word, phrase, or pattern that is banned.", "a password with a banned word"},
	{nativeauth.SuberrorPasswordIsInvalid, TriggerPasswordInvalidChars, nil,
		"password_is_invalid Password is invalid, for example because it uses disallowed characters.", "a password with disallowed characters"},
}

// passwordPolicyEntries are the six suberror entries of one endpoint.
func passwordPolicyEntries(prefix string, ep nativeauth.Endpoint, section string, base ...opt) []Entry {
	var out []Entry
	for _, p := range passwordSuberrors {
		opts := append([]opt{src(pw(section, p.row)), needs(p.needs...)}, base...)
		out = append(out, errEntry(prefix+".error.invalid_grant."+string(p.sub),
			"invalid_grant/"+string(p.sub)+" for "+p.title,
			ep, nativeauth.ErrInvalidGrant, p.sub, p.t, opts...))
	}
	return out
}

// clientIDEntries are the cases of a table's "the client ID value is empty
// or invalid" clause beside a missing client_id: an empty value and one
// that is not a GUID. base are the entry options of the endpoint.
func clientIDEntries(prefix string, ep nativeauth.Endpoint, sources []Source, base ...opt) []Entry {
	with := func(o ...opt) []opt { return append(append([]opt{src(sources...)}, o...), base...) }
	return []Entry{
		errEntry(prefix+".error.invalid_request.when_client_id_empty", "invalid_request for an empty client_id", ep,
			nativeauth.ErrInvalidRequest, "", TriggerClientIDEmpty, with()...),
		errEntry(prefix+".error.invalid_request.when_client_id_malformed", "invalid_request for a client_id that is not a GUID", ep,
			nativeauth.ErrInvalidRequest, "", TriggerClientIDMalformed,
			with(note("The row's \"invalid\" is read as malformed: a well-formed client ID the tenant does not know is the case of the unauthorized_client (or, on some tables, invalid_client) row."))...),
	}
}

// clientIDClause is the client-ID clause of the invalid_request rows.
const clientIDClause = "or the request didn't include client_id parameter the client ID value is empty or invalid"

// attrTable is the top-level section of both pages with the table of
// which endpoint takes which user attributes.
const attrTable = "Submitting user attributes to endpoints"
