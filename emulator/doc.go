// Package emulator is an in-process emulation of a Microsoft Entra External
// ID tenant's native authentication API, faithful enough that an app or SDK
// written against the real API works against it unchanged.
//
// An *Emulator is an http.Handler. For a tenant named "contoso" served at
// http://HOST the base URL is http://HOST/contoso.onmicrosoft.com (the
// tenant ID works in place of "contoso.onmicrosoft.com"), and below it:
//
//	POST /signup/v1.0/{start,challenge,continue}
//	POST /oauth2/v2.0/{initiate,challenge,token}
//	POST /resetpassword/v1.0/{start,challenge,continue,submit,poll_completion}
//	GET  /v2.0/.well-known/openid-configuration   (issuer {base}/v2.0)
//	GET  /discovery/v2.0/keys                     (JWKS)
//
// A test-only backdoor lives under /emulator/v1/ (outbox, clock, reset,
// users, config, faults); see README.md. Its messages, the tenant Config
// included, are the types of package backdoor, which also has the client.
//
// # What comes from where
//
// From the reference pages: endpoints, parameters, success bodies, the
// error body (error, error_description, error_codes, timestamp, trace_id,
// correlation_id, suberror, continuation_token, required_attributes,
// unverified_attributes, invalid_attributes), HTTP 400 for every flow
// error, the redirect answer (200 {"challenge_type":"redirect"}), the
// password suberrors, the attribute submission table, poll statuses,
// expires_in ≤ 600, oob challenge fields, id_token only with openid and
// refresh_token only with offline_access.
//
// From Microsoft's SDK sources and observed clients (the pages are silent
// or show placeholder codes): the numeric codes 50126, 50034, 55103, 55106,
// 55112, 55000, 90100, 50142; 50181/50182/1002027 from the sign-up error
// code page; client_info (base64url {"uid","utid"}) with client_info=1;
// tolerance of extra fields (claims, capabilities, challenge_type on token,
// x-client-SKU, x-ms-lib-capability, X-AnchorMailbox, username on the
// password grant) and ?client-request-id= on token; the client-request-id
// header echoed as correlation_id and response header, a fresh UUID in
// both when none was sent; password-reset-required as invalid_request with
// 50142, the only form MSAL JS and iOS recognise.
//
// # Decisions where the pages leave room or contradict themselves
//
//   - A challenge_type list without "redirect" is unsupported_challenge_type
//     (every error table says so) with code 901007; the pages' examples show
//     invalid_request+901007 for the same case. An unknown value in the list
//     is invalid_request ("includes an invalid challenge type").
//   - Redirect (200) whenever the list cannot satisfy the tenant: sign-up
//     start needs oob and, on a password tenant, password; sign-up challenge
//     needs oob before the email is verified and password after it when a
//     password is still missing; sign-in needs password for a password user
//     on a password tenant (OTP is not offered to them) and oob on an OTP
//     tenant or for a password-less account; reset needs oob.
//   - An invalid continuation token (forged, tampered, replayed, from
//     another flow, step or client) is invalid_grant at sign-up challenge,
//     sign-in challenge and token (their tables), invalid_request elsewhere,
//     always with code 55000. An expired one is expired_token 55112 (the
//     pages show 552003).
//   - grant_type missing is invalid_request; at /token an unknown grant is
//     unsupported_grant_type, a known grant at the wrong step invalid_grant;
//     at the continue endpoints any wrong grant is invalid_grant.
//   - Continue with attributes or password before the email is verified
//     keeps the values (optional attributes are accepted before
//     verification, per the attribute table) and answers
//     verification_required with unverified_attributes [{"name":"email"}].
//     After verification only required attributes are stored; optional
//     ones are silently dropped. Unknown names are always ignored.
//   - On an OTP tenant a password at start is ignored and grant password at
//     continue is invalid_grant.
//   - Client checks: missing or non-GUID client_id invalid_request;
//     unknown unauthorized_client 700016; confidential invalid_client
//     7000218 (no suberror); native auth off invalid_client with suberror
//     nativeauthapi_disabled.
//   - SSPR disabled: invalid_request (500222) at reset continue, the one
//     table that lists it ("the external tenant administrator hasn't
//     enabled SSPR and email OTP for all tenant users"), and at reset
//     start, whose invalid_request covers any failed validation. The
//     challenge, submit and poll_completion tables do not list it: a reset
//     past continue when SSPR is turned off finishes.
//   - A sign-up whose username was taken while in progress ends with
//     user_already_exists at the continue call that would create it.
//   - Limits the pages do not give: at max_live_flows flows in progress a
//     start answers 429 temporarily_unavailable (50196) with Retry-After;
//     after otp.max_attempts wrong oob values a code stops working, the
//     right one included, answering invalid_grant + invalid_oob_value (the
//     answer SDKs offer a resend for) until a new challenge.
//
// # State
//
// Continuation tokens are 47 bytes (base64url, 63 characters): flow kind,
// step, a random flow ID, a per-flow nonce and the expiry, authenticated
// with a truncated HMAC-SHA256 under a per-emulator random key. The server
// keeps one small record per flow; only the newest token of a flow is
// accepted, so a token cannot be replayed once the flow moved on. Errors
// that carry no new token (a wrong OTP or password) leave the presented
// token usable. Expiry follows the emulator clock, which the backdoor can
// advance; a janitor goroutine reclaims expired flows, refresh tokens and
// old outbox messages, and Close stops it. Refresh tokens and outbox
// messages are also bounded in number (tokens.max_refresh_tokens, outbox),
// the oldest going first, so a long load run holds bounded memory.
package emulator
