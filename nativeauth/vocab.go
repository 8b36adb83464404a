package nativeauth

// Endpoint is a path below the tenant base URL
// (https://{tenant}.ciamlogin.com/{tenant}.onmicrosoft.com).
type Endpoint string

// The eleven flow endpoints plus token, as the reference pages name them
// (the 2026-02 revision's four are in strongauth_vocab.go).
const (
	EndpointSignUpStart         Endpoint = "/signup/v1.0/start"
	EndpointSignUpChallenge     Endpoint = "/signup/v1.0/challenge"
	EndpointSignUpContinue      Endpoint = "/signup/v1.0/continue"
	EndpointSignInInitiate      Endpoint = "/oauth2/v2.0/initiate"
	EndpointSignInChallenge     Endpoint = "/oauth2/v2.0/challenge"
	EndpointToken               Endpoint = "/oauth2/v2.0/token"
	EndpointResetStart          Endpoint = "/resetpassword/v1.0/start"
	EndpointResetChallenge      Endpoint = "/resetpassword/v1.0/challenge"
	EndpointResetContinue       Endpoint = "/resetpassword/v1.0/continue"
	EndpointResetSubmit         Endpoint = "/resetpassword/v1.0/submit"
	EndpointResetPollCompletion Endpoint = "/resetpassword/v1.0/poll_completion"
	EndpointOpenIDConfiguration Endpoint = "/v2.0/.well-known/openid-configuration"
)

// Endpoints lists the flow endpoints (not discovery) in the order the pages
// present them.
var Endpoints = []Endpoint{
	EndpointSignUpStart, EndpointSignUpChallenge, EndpointSignUpContinue,
	EndpointSignInInitiate, EndpointSignInChallenge, EndpointToken,
	EndpointResetStart, EndpointResetChallenge, EndpointResetContinue,
	EndpointResetSubmit, EndpointResetPollCompletion,
	// The 2026-02 revision's (StrongAuthEndpoints).
	EndpointSignInIntrospect, EndpointRegisterIntrospect, EndpointRegisterChallenge, EndpointRegisterContinue,
}

// ChallengeType is one value of the space-separated challenge_type list.
type ChallengeType string

const (
	ChallengeTypeOOB      ChallengeType = "oob"
	ChallengeTypePassword ChallengeType = "password"
	ChallengeTypeRedirect ChallengeType = "redirect"
)

// GrantType is the grant_type form value of continue and token calls.
type GrantType string

const (
	GrantTypeOOB               GrantType = "oob"
	GrantTypePassword          GrantType = "password"
	GrantTypeAttributes        GrantType = "attributes"
	GrantTypeContinuationToken GrantType = "continuation_token"
	GrantTypeRefreshToken      GrantType = "refresh_token"
)

// ErrorCode is the "error" member of an error body.
type ErrorCode string

const (
	ErrInvalidRequest           ErrorCode = "invalid_request"
	ErrInvalidClient            ErrorCode = "invalid_client"
	ErrUnauthorizedClient       ErrorCode = "unauthorized_client"
	ErrUnsupportedChallengeType ErrorCode = "unsupported_challenge_type"
	ErrUnsupportedGrantType     ErrorCode = "unsupported_grant_type"
	ErrInvalidGrant             ErrorCode = "invalid_grant"
	ErrExpiredToken             ErrorCode = "expired_token"
	ErrInvalidScope             ErrorCode = "invalid_scope"
	ErrUserAlreadyExists        ErrorCode = "user_already_exists"
	ErrUserNotFound             ErrorCode = "user_not_found"
	ErrAttributesRequired       ErrorCode = "attributes_required"
	ErrCredentialRequired       ErrorCode = "credential_required"
	ErrVerificationRequired     ErrorCode = "verification_required"
	// ErrTemporarilyUnavailable is RFC 6749's error for a throttled or
	// overloaded server (HTTP 429/503 with Retry-After); the pages do not
	// list it, a loaded tenant answers it.
	ErrTemporarilyUnavailable ErrorCode = "temporarily_unavailable"
)

// Suberror is the "suberror" member that refines an ErrorCode.
type Suberror string

const (
	SuberrorNativeAuthAPIDisabled     Suberror = "nativeauthapi_disabled"
	SuberrorInvalidOOBValue           Suberror = "invalid_oob_value"
	SuberrorPasswordTooWeak           Suberror = "password_too_weak"
	SuberrorPasswordTooShort          Suberror = "password_too_short"
	SuberrorPasswordTooLong           Suberror = "password_too_long"
	SuberrorPasswordRecentlyUsed      Suberror = "password_recently_used"
	SuberrorPasswordBanned            Suberror = "password_banned"
	SuberrorPasswordIsInvalid         Suberror = "password_is_invalid"
	SuberrorAttributeValidationFailed Suberror = "attribute_validation_failed"
)

// PollStatus is the "status" member of a poll_completion answer.
type PollStatus string

const (
	PollStatusSucceeded  PollStatus = "succeeded"
	PollStatusFailed     PollStatus = "failed"
	PollStatusNotStarted PollStatus = "not_started"
	PollStatusInProgress PollStatus = "in_progress"
)

// Fixed values the pages document for an oob challenge.
const (
	BindingMethodPrompt   = "prompt"
	ChallengeChannelEmail = "email"
)

// Well-known scopes.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeOfflineAccess = "offline_access"
	ScopeEmail         = "email"
)

// Numeric codes carried in error_codes. The pages show some of these only as
// examples; Microsoft's SDKs branch on the ones marked "SDK". The catalog
// records which are normative.
const (
	CodeUserAlreadyExists      = 1003037 // page example, user_already_exists
	CodeCredentialRequired     = 55103   // SDK
	CodeAttributesRequired     = 55106   // SDK
	CodeExpiredToken           = 55112   // SDK; pages show 552003 and 901007
	CodeInvalidContinuation    = 55000   // SDK, invalid_request
	CodeInvalidContinuationAlt = 55200   // page example, invalid_request on reset continue
	CodeInvalidUsername        = 90100   // SDK, invalid_request
	CodeInvalidCredentials     = 50126   // SDK, wrong password at token
	CodeUserNotFound           = 50034   // SDK, user_not_found at token
	CodePasswordResetRequired  = 50142   // SDK
	CodeRedirectMissing        = 901007  // page example, reused across the pages
	CodeOTPInvalid             = 50181   // sign-up error-code page
	CodeOTPExpired             = 50182   // sign-up error-code page
	CodeAttributesInvalid      = 1002027 // sign-up error-code page
	CodeUserCreationFailed     = 399279  // sign-up error-code page
	CodeOTPPrompted            = 1002013 // sign-up error-code page, not an error
	CodeKeepMeSignedIn         = 50140   // sign-up error-code page, not an error
	CodePasswordTooWeak        = 399246  // page example
	CodeThrottled              = 50196   // AADSTS50196, Entra's throttling code (MSAL docs), not on the pages
	CodeServiceUnavailable     = 90033   // AADSTS90033, a transient error, not on the pages
)

// SignUpMethod is the sign-up method a tenant's user flow offers: email
// with password, or email one-time passcode; sign-in and password reset
// follow it. The pages document each on its own page. It lives here, below
// everything, because every layer names it — the emulator's configuration,
// the target profile, the catalog, the suites and the scenarios — and this
// is the one package all of them may import.
type SignUpMethod string

const (
	SignUpMethodPassword SignUpMethod = "password" // email with password
	SignUpMethodOTP      SignUpMethod = "otp"      // email one-time passcode
)

// SignUpMethods lists both methods.
var SignUpMethods = []SignUpMethod{SignUpMethodPassword, SignUpMethodOTP}
