package nativeauth

// The 2026-02 revision of the reference pages adds multifactor sign-in,
// just-in-time registration of a strong authentication method and the
// capabilities parameter. Its vocabulary is written here, beside the older
// revision's in vocab.go.

// The endpoints the 2026-02 revision adds.
const (
	// EndpointSignInIntrospect lists the user's registered strong methods
	// after /token answered mfa_required.
	EndpointSignInIntrospect Endpoint = "/oauth2/v2.0/introspect"
	// EndpointRegisterIntrospect lists the strong methods the user may
	// register after /token answered registration_required.
	EndpointRegisterIntrospect Endpoint = "/register/v1.0/introspect"
	EndpointRegisterChallenge  Endpoint = "/register/v1.0/challenge"
	EndpointRegisterContinue   Endpoint = "/register/v1.0/continue"
)

// StrongAuthEndpoints lists the endpoints of the 2026-02 revision that the
// older pages lack, in the order the pages present them; Endpoints has
// them too.
var StrongAuthEndpoints = []Endpoint{
	EndpointSignInIntrospect, EndpointRegisterIntrospect, EndpointRegisterChallenge, EndpointRegisterContinue,
}

// ChallengeTypePreverified is the register challenge answer when the
// contact equals an email the flow already verified: no code is sent.
const ChallengeTypePreverified ChallengeType = "preverified"

// GrantTypeMFAOOB is the token grant that submits the code of an MFA
// challenge (second factor).
const GrantTypeMFAOOB GrantType = "mfa_oob"

// Errors the 2026-02 revision adds.
const (
	// ErrAccessDenied: register challenge refused the contact (SMS blocked).
	ErrAccessDenied ErrorCode = "access_denied"
	// ErrServerError is listed by the sign-in introspect table.
	ErrServerError ErrorCode = "server_error"
)

// Suberrors the 2026-02 revision adds.
const (
	// SuberrorMFARequired (invalid_grant at /token, with a continuation
	// token): call /oauth2/v2.0/introspect.
	SuberrorMFARequired Suberror = "mfa_required"
	// SuberrorRegistrationRequired (invalid_grant at /token, with a
	// continuation token): call /register/v1.0/introspect.
	SuberrorRegistrationRequired Suberror = "registration_required"
	// SuberrorProviderBlockedByRep (access_denied at register challenge):
	// the phone number was blocked by reputation checks.
	SuberrorProviderBlockedByRep Suberror = "provider_blocked_by_rep"
	// SuberrorProviderBlockedByAdmin (access_denied at register challenge):
	// the administrator blocked the phone region.
	SuberrorProviderBlockedByAdmin Suberror = "provider_blocked_by_admin"
)

// ChallengeChannelSMS is the channel of an SMS code (second factor only).
const ChallengeChannelSMS = "sms"

// Strong method ids of the register introspect answer (sign-in introspect
// ids are opaque).
const (
	StrongMethodEmail = "email"
	StrongMethodSMS   = "sms"
)

// Capability is one value of the space-separated capabilities parameter of
// sign-in initiate, sign-up start and reset start: an extra flow the app
// can handle inline. Without a capability the tenant needs, the flow
// answers a redirect with redirect_reason.
type Capability string

const (
	CapabilityMFARequired          Capability = "mfa_required"
	CapabilityRegistrationRequired Capability = "registration_required"
)

// Capabilities lists the values the pages support.
var Capabilities = []Capability{CapabilityMFARequired, CapabilityRegistrationRequired}

// Numeric codes of the 2026-02 revision's flows, from Microsoft's SDKs.
const (
	CodeInvalidVerificationContact = 901001 // SDK: invalid_request at MFA or register challenge
	CodeProviderBlocked            = 550024 // iOS mock server: access_denied + provider_blocked_by_rep
)
