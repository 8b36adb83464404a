// Package nativeauth is a typed client for the Microsoft Entra External ID
// native authentication API, and the one place its wire vocabulary is written.
//
// A Client sends form-encoded POSTs to the eleven flow endpoints and token,
// and to the four the 2026-02 revision adds for multifactor sign-in and
// strong-method registration (sign-in introspect, register introspect,
// challenge and continue), as the reference pages show them: client_id
// always, space-separated challenge_type, capabilities and scope,
// attributes as a JSON object string, optional parameters only when set.
// Every typed method returns a result or an error, never both:
//
//   - a result, whose Redirect (the starts, the challenges, both
//     introspects and, since the 2026-02 revision, token) callers must
//     check first: {"challenge_type":"redirect"} means "fall back to a web
//     flow" and nothing else is filled;
//   - an *Error for an HTTP 4xx/5xx whose body is a JSON object with an
//     "error" member (match with IsError, errors.Is or errors.As);
//   - a *ProtocolError for an answer that breaks the contract;
//   - a transport or context error.
//
// The wire encoding is written once, here: the parameter names (Param*)
// and each typed request's Form. A Call binds a typed request to its
// endpoint and client_id; a check that needs a malformed request changes a
// Call (any parameter, client_id included, through Set) and sends it with
// Send, and Do sends any form to any endpoint.
//
// # Strict JSON
//
// Bodies must be strict JSON (RFC 8259) with Content-Type application/json.
// The pages' examples contain a trailing comma ({"continuation_token":
// "AQ…",}); a real tenant sends valid JSON, and tolerating that would hide a
// broken server from the conformance suites, so such a body is a
// *ProtocolError whose Reason says "invalid JSON". String values are kept
// exactly as sent: leading or trailing spaces inside a value (as in the
// pages' " AQABAAEAAAAty...") are data, not trimmed. Unknown members are
// ignored, so the service may add fields; a member name with a stray space,
// as the pages' "challenge_target_label " key, is such an unknown member and
// leaves its field empty. Member names are otherwise matched as
// encoding/json does (case-insensitively). An error status whose body has
// no non-empty "error" member (the pages show "error": "") is a
// *ProtocolError: there is no code to act on.
//
// # Secrets
//
// Passwords, OTPs, continuation tokens and access, refresh and id tokens are
// Secret values: fmt, log/slog and JSON see "[redacted]". Request and result
// types implement slog.LogValuer; Response prints and marshals as a redacted
// summary; ProtocolError snippets are redacted with Redact. Response.Body
// keeps the raw bytes for conformance checks and must not be logged as is.
package nativeauth
