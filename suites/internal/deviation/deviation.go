// Package deviation wraps a conforming server with deliberate deviations
// from the API reference, so the project's own tests can prove the
// conformance suite catches each one. Nothing outside suites/ may use it.
package deviation

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// CodeFunc returns the latest one-time passcode the wrapped server sent to
// username, read through its backdoor.
type CodeFunc func(inner http.Handler, username string) (string, bool)

// All returns the deviations by name. codeFor reads the outbox for the
// deviation that accepts a wrong OTP.
func All(codeFor CodeFunc) map[string]Middleware {
	return map[string]Middleware{
		"missing-suberror":            MissingSuberror,
		"wrong-status":                WrongStatus,
		"cors":                        CORS,
		"bad-signature":               BadSignature(),
		"wrong-otp-accepted":          WrongOTPAccepted(codeFor),
		"missing-continuation-token":  MissingContinuationToken,
		"refresh-token-always":        RefreshTokenAlways,
		"malformed-client-id-unknown": MalformedClientIDUnknown,
		"mfa-required-without-token":  MFARequiredWithoutToken,
		"introspect-hint-unmasked":    IntrospectHintUnmasked,
	}
}

// Names lists the deviations, sorted.
func Names() []string {
	names := make([]string, 0, 10)
	for n := range All(nil) {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// rewrite runs next into a recorder, lets edit change status, headers and
// JSON body, and writes the result.
func rewrite(next http.Handler, edit func(r *http.Request, status *int, h http.Header, body map[string]any) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		status := rec.Code
		h := rec.Header().Clone()
		raw := rec.Body.Bytes()
		var body map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if strings.HasPrefix(r.URL.Path, "/emulator/") || dec.Decode(&body) != nil {
			body = nil
		}
		if body != nil && edit(r, &status, h, body) {
			if b, err := json.Marshal(body); err == nil {
				raw = b
			}
		} else if body == nil {
			edit(r, &status, h, nil)
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
		w.WriteHeader(status)
		_, _ = w.Write(raw)
	})
}

// MissingSuberror drops suberror from every error answer.
func MissingSuberror(next http.Handler) http.Handler {
	return rewrite(next, func(_ *http.Request, _ *int, _ http.Header, b map[string]any) bool {
		if b == nil || b["suberror"] == nil {
			return false
		}
		delete(b, "suberror")
		return true
	})
}

// WrongStatus answers invalid_client errors with 401 instead of 400.
func WrongStatus(next http.Handler) http.Handler {
	return rewrite(next, func(_ *http.Request, status *int, _ http.Header, b map[string]any) bool {
		if b != nil && b["error"] == string(nativeauth.ErrInvalidClient) {
			*status = http.StatusUnauthorized
		}
		return false
	})
}

// CORS adds an Access-Control-Allow-Origin header to every API answer.
func CORS(next http.Handler) http.Handler {
	return rewrite(next, func(r *http.Request, _ *int, h http.Header, _ map[string]any) bool {
		if !strings.HasPrefix(r.URL.Path, "/emulator/") {
			h.Set("Access-Control-Allow-Origin", "*")
		}
		return false
	})
}

// MissingContinuationToken drops continuation_token from sign-up start's
// success answer.
func MissingContinuationToken(next http.Handler) http.Handler {
	return rewrite(next, func(r *http.Request, status *int, _ http.Header, b map[string]any) bool {
		if b == nil || *status != http.StatusOK || !strings.HasSuffix(r.URL.Path, string(nativeauth.EndpointSignUpStart)) {
			return false
		}
		delete(b, "continuation_token")
		return true
	})
}

// MFARequiredWithoutToken drops the continuation token of every
// mfa_required answer, leaving the app no way on to introspect.
func MFARequiredWithoutToken(next http.Handler) http.Handler {
	return rewrite(next, func(_ *http.Request, status *int, _ http.Header, b map[string]any) bool {
		if b == nil || *status == http.StatusOK || b["suberror"] != string(nativeauth.SuberrorMFARequired) {
			return false
		}
		delete(b, "continuation_token")
		return true
	})
}

// IntrospectHintUnmasked shows the sign-in introspect hints in clear (the
// masking marks dropped), as a server that leaks the contact would.
func IntrospectHintUnmasked(next http.Handler) http.Handler {
	return rewrite(next, func(r *http.Request, status *int, _ http.Header, b map[string]any) bool {
		if b == nil || *status != http.StatusOK || !strings.HasSuffix(r.URL.Path, string(nativeauth.EndpointSignInIntrospect)) {
			return false
		}
		ms, _ := b["methods"].([]any)
		for _, m := range ms {
			if o, ok := m.(map[string]any); ok {
				if h, ok := o["login_hint"].(string); ok {
					o["login_hint"] = strings.ReplaceAll(h, "*", "x")
				}
			}
		}
		return len(ms) > 0
	})
}

// RefreshTokenAlways adds a refresh_token to every token answer that has
// none, as a server that ignores whether offline_access was asked would.
func RefreshTokenAlways(next http.Handler) http.Handler {
	return rewrite(next, func(r *http.Request, status *int, _ http.Header, b map[string]any) bool {
		if b == nil || *status != http.StatusOK || !strings.HasSuffix(r.URL.Path, string(nativeauth.EndpointToken)) || b["refresh_token"] != nil {
			return false
		}
		b["refresh_token"] = "unasked-refresh-token"
		return true
	})
}

// BadSignature re-signs every id_token with a key the tenant does not
// publish, keeping header and claims.
func BadSignature() Middleware {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	return func(next http.Handler) http.Handler {
		return rewrite(next, func(_ *http.Request, _ *int, _ http.Header, b map[string]any) bool {
			raw, _ := b["id_token"].(string)
			if raw == "" || err != nil {
				return false
			}
			resigned, ok := resign(raw, key)
			if ok {
				b["id_token"] = resigned
			}
			return ok
		})
	}
}

func resign(raw string, key *rsa.PrivateKey) (string, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", false
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", false
	}
	var h map[string]any
	if json.Unmarshal(hdr, &h) != nil {
		return "", false
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid, ok := h["kid"].(string); ok {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", false
	}
	out, err := jws.CompactSerialize()
	return out, err == nil
}

// WrongOTPAccepted rewrites any submitted oob to the code the server really
// sent, as a server that does not check codes would behave. It follows each
// flow's continuation tokens from the request that named the user.
func WrongOTPAccepted(codeFor CodeFunc) Middleware {
	return func(next http.Handler) http.Handler {
		var mu sync.Mutex
		userOf := map[string]string{} // continuation token → username
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || strings.HasPrefix(r.URL.Path, "/emulator/") {
				next.ServeHTTP(w, r)
				return
			}
			raw, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(raw))
			mu.Lock()
			user := form.Get("username")
			if user == "" {
				user = userOf[form.Get("continuation_token")]
			}
			mu.Unlock()
			if form.Get("oob") != "" && user != "" && codeFor != nil {
				if code, ok := codeFor(next, user); ok {
					form.Set("oob", code)
					raw = []byte(form.Encode())
				}
			}
			r2 := r.Clone(r.Context())
			r2.Body = io.NopCloser(bytes.NewReader(raw))
			r2.ContentLength = int64(len(raw))
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r2)
			var b struct {
				CT string `json:"continuation_token"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &b) == nil && b.CT != "" && user != "" {
				mu.Lock()
				userOf[b.CT] = user
				mu.Unlock()
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
}

// MalformedClientIDUnknown answers unauthorized_client where a client_id
// sent empty or not as a GUID deserves invalid_request: the tenant takes a
// malformed client ID for an unknown one. A missing client_id keeps its
// answer.
func MalformedClientIDUnknown(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Wrapped as a transport, a bodiless request has a nil Body.
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		form, _ := url.ParseQuery(string(raw))
		_, err := uuid.Parse(form.Get("client_id"))
		malformed := form.Has("client_id") && err != nil
		rewrite(next, func(_ *http.Request, _ *int, _ http.Header, body map[string]any) bool {
			if !malformed || body == nil || body["error"] != string(nativeauth.ErrInvalidRequest) {
				return false
			}
			body["error"] = string(nativeauth.ErrUnauthorizedClient)
			return true
		}).ServeHTTP(w, r)
	})
}
