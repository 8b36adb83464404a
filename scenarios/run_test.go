package scenarios

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/otp"
)

func TestNewValidates(t *testing.T) {
	good := Config{Client: &nativeauth.Client{}, OTP: otp.SourceFunc(nil), Users: usersFunc(func(string) string { return "" })}
	if _, err := New("signin-magic", good); err == nil || !strings.Contains(err.Error(), "signup-password-continue") {
		t.Fatalf("unknown flow err = %v, want the known names listed", err)
	}
	bad := good
	bad.Client = nil
	if _, err := New(FlowSSPR, bad); err == nil {
		t.Fatal("no client: want an error")
	}
	bad = good
	bad.ChallengeTypes = map[string][]nativeauth.ChallengeType{"nope": {"oob"}}
	if _, err := New(FlowSSPR, bad); err == nil {
		t.Fatal("challenge types for an unknown flow: want an error")
	}
	for _, n := range Names() {
		f, err := New(n, good)
		if err != nil || f.Name() != n {
			t.Fatalf("New(%s) = %v, %v", n, f, err)
		}
	}
	if len(Names()) != 9 {
		t.Fatalf("Names = %v", Names())
	}
}

// A flow for the other sign-up method is refused before any request: the
// tenant would answer each iteration with a redirect.
func TestNewRefusesFlowsOfTheOtherMethod(t *testing.T) {
	base := Config{Client: &nativeauth.Client{}, OTP: otp.SourceFunc(nil), Users: usersFunc(func(string) string { return "" })}
	for _, method := range nativeauth.SignUpMethods {
		cfg := base
		cfg.SignUpMethod = method
		for _, n := range Names() {
			want := Method(n)
			if want == "" {
				t.Fatalf("flow %s has no sign-up method", n)
			}
			_, err := New(n, cfg)
			if want == method && err != nil {
				t.Errorf("%s on a %s tenant: %v", n, method, err)
			}
			if want != method && (err == nil || !strings.Contains(err.Error(), string(want))) {
				t.Errorf("%s on a %s tenant: err = %v, want it refused naming %q", n, method, err, want)
			}
		}
	}
}

type usersFunc func(string) string

func (f usersFunc) New(tag string) string { return f(tag) }

func TestStepRecordsRedirectAndChain(t *testing.T) {
	var got []StepResult
	start := time.Now().Add(-time.Second)
	r := newIter("x", Iteration{IntendedStart: start, Observer: ObserverFunc(func(s StepResult) { got = append(got, s) })})
	err := r.do(context.Background(), "a.one", func(context.Context) (outcome, error) {
		return outcome{resp: &nativeauth.Response{HTTPStatus: 200}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r.do(context.Background(), "a.two", func(context.Context) (outcome, error) {
		return outcome{resp: &nativeauth.Response{HTTPStatus: 200}}, redirected(&nativeauth.Redirect{Reason: "web only"})
	})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "a.two" || !errors.Is(err, ErrRedirect) {
		t.Fatalf("err = %v, want a redirect StepError at a.two", err)
	}
	if len(got) != 2 || !got[0].IntendedStart.Equal(start) || !got[1].IntendedStart.Equal(got[0].Done) {
		t.Fatalf("IntendedStart chain broken: %+v", got)
	}
	if !got[1].Redirect || got[1].Err == nil || !strings.Contains(got[1].Err.Error(), "web only") || got[0].Redirect {
		t.Fatalf("redirect not recorded: %+v", got[1])
	}
	if err := r.pause(context.Background(), 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	_ = r.do(context.Background(), "a.three", func(context.Context) (outcome, error) { return outcome{}, nil })
	if want := got[1].Done.Add(10 * time.Millisecond); !got[2].IntendedStart.Equal(want) {
		t.Fatalf("a pause moved IntendedStart to %v, want %v", got[2].IntendedStart, want)
	}
}

// Flows that take users from the pool say up front that an empty pool
// would fail every iteration; sign-up flows need no pool.
func TestReadyNeedsUsers(t *testing.T) {
	type readier interface{ Ready(int) error }
	for _, n := range []string{FlowSignInPassword, FlowSignInOTP, FlowSSPR, FlowSSPRResend} {
		cfg := Config{Client: &nativeauth.Client{}, OTP: otp.SourceFunc(nil), Users: usersFunc(func(string) string { return "" })}
		f, err := New(n, cfg)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := f.(readier)
		if !ok {
			t.Fatalf("%s has no Ready", n)
		}
		if err := r.Ready(0); !errors.Is(err, ErrPoolEmpty) {
			t.Errorf("%s with an empty pool: Ready = %v, want ErrPoolEmpty", n, err)
		}
		pool := NewUserPool(Credential{Username: "a@example.com", Password: "pw"})
		cfg.Pool = pool
		f, _ = New(n, cfg)
		if _, ok := pool.Take(); !ok {
			t.Fatal("take")
		}
		// A user in use is still a user: the pool is not empty.
		if err := f.(readier).Ready(1); err != nil {
			t.Errorf("%s with one user: Ready = %v", n, err)
		}
		// Two VUs would share one user: the second would fail at once.
		if err := f.(readier).Ready(2); !errors.Is(err, ErrPoolEmpty) || !strings.Contains(err.Error(), "1 users for 2 iterations") {
			t.Errorf("%s: one user for two VUs: Ready = %v", n, err)
		}
	}
	f, _ := New(FlowSignUpPassword, Config{Client: &nativeauth.Client{}, OTP: otp.SourceFunc(nil), Users: usersFunc(func(string) string { return "" })})
	if _, ok := f.(readier); ok {
		t.Error("sign-up needs no pool, so no Ready")
	}
}

func TestStepsOfEveryFlow(t *testing.T) {
	for _, n := range Names() {
		steps := Steps(n)
		if len(steps) == 0 {
			t.Errorf("Steps(%s) is empty", n)
			continue
		}
		steps[0] = "changed"
		if Steps(n)[0] == "changed" {
			t.Errorf("Steps(%s) hands out its own list", n)
		}
	}
	if Steps("signin-magic") != nil {
		t.Error("an unknown flow has no steps")
	}
}
