package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Goals (README.md): ≥ 15,000 req/s per non-token endpoint, ≥ 1,500 req/s
// at token, ≤ 2 KiB per flow in progress. Run with
//
//	go test -run '^$' -bench . -benchmem ./emulator/

// direct calls the handler in-process; benchmarks use it to prepare state
// outside the timed loop.
func direct(tb testing.TB, e *Emulator, ep nativeauth.Endpoint, form url.Values) map[string]any {
	req := httptest.NewRequest(http.MethodPost, "/contoso.onmicrosoft.com"+string(ep), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		tb.Fatalf("%s: %v", ep, err)
	}
	return out
}

func lastOTP(e *Emulator, username string) string {
	ms := e.data.Load().outbox.messages(normalizeUsername(username))
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1].Code.Reveal()
}

// benchStep is one endpoint under load: prep builds the form for request i
// (untimed), want is the expected status.
type benchStep struct {
	name string // sub-benchmark name suffix, "" for the plain endpoint
	ep   nativeauth.Endpoint
	prep func(tb testing.TB, e *Emulator, i int) url.Values
	// mutate changes the tenant for this step, nil for the default.
	mutate func(*backdoor.Config)
}

func ctOf(m map[string]any) string { s, _ := m["continuation_token"].(string); return s }

// benchSteps lists the steps in benchmark order: the 2026-02 revision's
// MFA and registration endpoints, then sign-up and sign-in, then reset.
func benchSteps() []benchStep {
	steps := mfaBenchSteps()
	steps = append(steps, signUpSignInBenchSteps()...)
	return append(steps, resetBenchSteps()...)
}

// benchUser is the user seeded for the sign-in and reset steps.
const benchUser = "bench@example.com"

func signUpSignInBenchSteps() []benchStep {
	const user = benchUser
	signUpStart := func(tb testing.TB, e *Emulator, i int) string {
		return ctOf(direct(tb, e, nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", fmt.Sprintf("p%d@example.com", i), "challenge_type", "oob password redirect", "password", goodPass, "attributes", `{"displayName":"B"}`)))
	}
	signUpChallenge := func(tb testing.TB, e *Emulator, i int) string {
		return ctOf(direct(tb, e, nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", signUpStart(tb, e, i))))
	}
	initiate := func(tb testing.TB, e *Emulator) string {
		return ctOf(direct(tb, e, nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", user, "challenge_type", "password redirect")))
	}
	// passwordGrant is the token request of a sign-in of user with the
	// password, asking for scope.
	passwordGrant := func(tb testing.TB, e *Emulator, scope string) url.Values {
		ct := ctOf(direct(tb, e, nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", initiate(tb, e))))
		return vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", scope)
	}
	return []benchStep{
		{"", nativeauth.EndpointSignUpStart, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "username", fmt.Sprintf("s%d@example.com", i), "challenge_type", "oob password redirect")
		}, nil},
		{"", nativeauth.EndpointSignUpChallenge, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "continuation_token", signUpStart(tb, e, i))
		}, nil},
		{"", nativeauth.EndpointSignUpContinue, func(tb testing.TB, e *Emulator, i int) url.Values {
			ct := signUpChallenge(tb, e, i)
			return vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", lastOTP(e, fmt.Sprintf("p%d@example.com", i)))
		}, nil},
		{"", nativeauth.EndpointSignInInitiate, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "username", user, "challenge_type", "password redirect")
		}, nil},
		{"", nativeauth.EndpointSignInChallenge, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "continuation_token", initiate(tb, e))
		}, nil},
		{"", nativeauth.EndpointToken, func(tb testing.TB, e *Emulator, i int) url.Values {
			return passwordGrant(tb, e, "openid offline_access")
		}, nil},
		// tokens.key_bits 1024: for load tests of the harness only.
		{"key1024", nativeauth.EndpointToken, func(tb testing.TB, e *Emulator, i int) url.Values {
			return passwordGrant(tb, e, "openid offline_access")
		}, func(c *backdoor.Config) { c.Tokens.KeyBits = 1024 }},
		// Access token only: one RS256 signature instead of two. Each
		// RSA-2048 signature costs ~0.7 ms of CPU on the 2-core reference
		// machine, which bounds the token rate.
		{"access_only", nativeauth.EndpointToken, func(tb testing.TB, e *Emulator, i int) url.Values {
			return passwordGrant(tb, e, clientID+"/.default")
		}, nil},
	}
}

func resetBenchSteps() []benchStep {
	const user = benchUser
	resetStart := func(tb testing.TB, e *Emulator) string {
		return ctOf(direct(tb, e, nativeauth.EndpointResetStart, vals("client_id", clientID, "username", user, "challenge_type", "oob redirect")))
	}
	// resetOOB is the continue request proving the code of a reset of user
	// just challenged. Reset flows all mail the same user, so each is
	// verified right after its challenge, while its code is still the
	// newest in the outbox.
	resetOOB := func(tb testing.TB, e *Emulator) url.Values {
		ct := ctOf(direct(tb, e, nativeauth.EndpointResetChallenge, vals("client_id", clientID, "continuation_token", resetStart(tb, e))))
		return vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", lastOTP(e, user))
	}
	resetVerified := func(tb testing.TB, e *Emulator) string {
		return ctOf(direct(tb, e, nativeauth.EndpointResetContinue, resetOOB(tb, e)))
	}
	return []benchStep{
		{"", nativeauth.EndpointResetStart, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "username", user, "challenge_type", "oob redirect")
		}, nil},
		{"", nativeauth.EndpointResetChallenge, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "continuation_token", resetStart(tb, e))
		}, nil},
		{"", nativeauth.EndpointResetContinue, func(tb testing.TB, e *Emulator, i int) url.Values {
			return resetOOB(tb, e)
		}, nil},
		{"", nativeauth.EndpointResetSubmit, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "continuation_token", resetVerified(tb, e), "new_password", otherPass)
		}, nil},
		{"", nativeauth.EndpointResetPollCompletion, func(tb testing.TB, e *Emulator, i int) url.Values {
			ct := ctOf(direct(tb, e, nativeauth.EndpointResetSubmit, vals("client_id", clientID, "continuation_token", resetVerified(tb, e), "new_password", otherPass)))
			return vals("client_id", clientID, "continuation_token", ct)
		}, nil},
	}
}

// The 2026-02 revision's endpoints, on a tenant requiring MFA: the
// MFA steps reuse one user with an email method; the registration
// steps a user of their own per request, since registering changes it.
func mfaBenchTenant(c *backdoor.Config) {
	c.MFA = backdoor.MFAConfig{Enabled: true, Methods: []string{"email", "sms"}, RequireRegistration: true}
	c.Users = append(c.Users, backdoor.SeedUser{Username: "mfa@example.com", Password: goodPass,
		StrongMethods: []backdoor.StrongMethod{{Channel: "email", Target: "mfa@example.com"}}})
}

func mfaBenchSteps() []benchStep {
	secondFactorCT := func(tb testing.TB, e *Emulator, username string) string {
		ct := ctOf(direct(tb, e, nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", username,
			"challenge_type", "password redirect", "capabilities", "mfa_required registration_required")))
		ct = ctOf(direct(tb, e, nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
		return ctOf(direct(tb, e, nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct,
			"grant_type", "password", "password", goodPass, "scope", "openid")))
	}
	mfaIntrospected := func(tb testing.TB, e *Emulator) (ct, id string) {
		m := direct(tb, e, nativeauth.EndpointSignInIntrospect, vals("client_id", clientID, "continuation_token", secondFactorCT(tb, e, "mfa@example.com")))
		ms, _ := m["methods"].([]any)
		if len(ms) == 0 {
			tb.Fatalf("introspect: %v", m)
		}
		id, _ = ms[0].(map[string]any)["id"].(string)
		return ctOf(m), id
	}
	regUser := func(tb testing.TB, e *Emulator, i int) string {
		u := fmt.Sprintf("reg%d@example.com", i)
		if _, err := e.createUser(e.data.Load(), u, goodPass, nil); err != nil {
			tb.Fatal(err)
		}
		return u
	}
	regIntrospected := func(tb testing.TB, e *Emulator, i int) string {
		return ctOf(direct(tb, e, nativeauth.EndpointRegisterIntrospect, vals("client_id", clientID, "continuation_token", secondFactorCT(tb, e, regUser(tb, e, i)))))
	}
	return []benchStep{
		{"", nativeauth.EndpointSignInIntrospect, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "continuation_token", secondFactorCT(tb, e, "mfa@example.com"))
		}, mfaBenchTenant},
		{"mfa", nativeauth.EndpointSignInChallenge, func(tb testing.TB, e *Emulator, i int) url.Values {
			ct, id := mfaIntrospected(tb, e)
			return vals("client_id", clientID, "continuation_token", ct, "id", id)
		}, mfaBenchTenant},
		{"mfa_oob", nativeauth.EndpointToken, func(tb testing.TB, e *Emulator, i int) url.Values {
			ct, id := mfaIntrospected(tb, e)
			ct = ctOf(direct(tb, e, nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct, "id", id)))
			return vals("client_id", clientID, "continuation_token", ct, "grant_type", "mfa_oob", "oob", lastOTP(e, "mfa@example.com"), "scope", "openid offline_access")
		}, mfaBenchTenant},
		{"", nativeauth.EndpointRegisterIntrospect, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "continuation_token", secondFactorCT(tb, e, regUser(tb, e, i)))
		}, mfaBenchTenant},
		{"", nativeauth.EndpointRegisterChallenge, func(tb testing.TB, e *Emulator, i int) url.Values {
			return vals("client_id", clientID, "continuation_token", regIntrospected(tb, e, i), "challenge_type", "oob",
				"challenge_channel", "sms", "challenge_target", fmt.Sprintf("+1555%07d", i))
		}, mfaBenchTenant},
		{"", nativeauth.EndpointRegisterContinue, func(tb testing.TB, e *Emulator, i int) url.Values {
			ct := ctOf(direct(tb, e, nativeauth.EndpointRegisterChallenge, vals("client_id", clientID, "continuation_token", regIntrospected(tb, e, i),
				"challenge_type", "oob", "challenge_channel", "sms", "challenge_target", fmt.Sprintf("+1555%07d", i))))
			return vals("client_id", clientID, "continuation_token", ct, "grant_type", "oob", "oob", lastOTP(e, fmt.Sprintf("reg%d@example.com", i)))
		}, mfaBenchTenant},
	}
}

// BenchmarkEndpoints measures each endpoint's successful answers per
// second over loopback HTTP with keep-alive and parallel clients.
func BenchmarkEndpoints(b *testing.B) {
	for _, st := range benchSteps() {
		name := strings.TrimPrefix(strings.ReplaceAll(string(st.ep), "/", "_"), "_")
		if st.name != "" {
			name += "_" + st.name
		}
		b.Run(name, func(b *testing.B) {
			// b.N flows are prepared before the timed loop: no bound.
			h := newHarness(b, func(c *backdoor.Config) {
				c.MaxLiveFlows = math.MaxInt64
				if st.mutate != nil {
					st.mutate(c)
				}
			})
			h.createUser("bench@example.com", goodPass, nil)
			bodies := make([]string, b.N)
			for i := range bodies {
				bodies[i] = st.prep(b, h.e, i).Encode()
			}
			tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			cli := &http.Client{Transport: tr}
			target := h.base + string(st.ep)
			var next, failed atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) - 1
					res, err := cli.Post(target, "application/x-www-form-urlencoded", strings.NewReader(bodies[i]))
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d requests did not answer 200", n, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkFlowMemory reports the heap held per sign-up flow in progress
// (password and two attributes submitted at start).
func BenchmarkFlowMemory(b *testing.B) {
	cfg := DefaultConfig()
	cfg.MaxLiveFlows = math.MaxInt64 // every flow stays in progress: no bound for this measure
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	app := &e.tenant.Load().cfg.Apps[0]
	attrs := map[string]string{"displayName": "Flow User", "city": "Lyon"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rc := &reqCtx{e: e, t: e.tenant.Load(), d: e.data.Load(), now: e.clock.Now(), app: app}
		f, _, ae := rc.newFlow(kindSignUp, stepSignUpStarted, fmt.Sprintf("user%07d@example.com", i), chOOB|chPassword|chRedirect)
		if ae != nil {
			b.Fatalf("flow %d refused: %s", i, ae.Message)
		}
		f.password = fmt.Sprintf("Pass%07d!", i)
		f.attributes = rc.t.keepKnown(attrs, false)
		rc.sendOTP(f, "signup")
		f.mu.Unlock()
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := e.data.Load().flows.len(); n != b.N {
		b.Fatalf("%d flows, want %d", n, b.N)
	}
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "B/flow")
	runtime.KeepAlive(e)
}
