package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

// A tenant answers what only a backdoor does with errNoBackdoor, which the
// drivers turn into a skip with their reason, and answers Has from the
// profile alone.
func TestTenantEnvHasNoBackdoor(t *testing.T) {
	var e Env = &tenantEnv{target: &profile.Target{Expect: profile.Expectations{SignUpMethod: nativeauth.SignUpMethodPassword}}}
	ctx := context.Background()
	if err := e.ChangeTenant(ctx, nil, nil); !errors.Is(err, errNoBackdoor) {
		t.Errorf("ChangeTenant: want errNoBackdoor, got %v", err)
	}
	if err := e.AdvanceClock(ctx, 0); !errors.Is(err, errNoBackdoor) {
		t.Errorf("AdvanceClock: want errNoBackdoor, got %v", err)
	}
	if _, err := e.Stats(ctx); !errors.Is(err, errNoBackdoor) {
		t.Errorf("Stats: want errNoBackdoor, got %v", err)
	}
	if has, _ := e.Has(profile.CapSignUpPassword); !has {
		t.Error("Has(signup:password): want true on a password tenant")
	}
	if has, reason := e.Has(profile.CapSignUpOTP); has || reason == "" {
		t.Errorf("Has(signup:otp) on a password tenant without a backdoor: want false with a reason, got %v %q", has, reason)
	}
}

// Every capability a backdoor gives the tenant holds on the expectations
// its change leaves, whatever the tenant was before, so Has does not
// change the tenant twice in a spec.
func TestTenantSwitchesHoldOnceApplied(t *testing.T) {
	before := []profile.Expectations{
		{SignUpMethod: nativeauth.SignUpMethodPassword},
		{SignUpMethod: nativeauth.SignUpMethodOTP, MFA: profile.MFAExpectations{Enabled: true}},
	}
	for c, s := range tenantSwitches {
		for _, x := range before {
			if s.what == "" || s.config == nil {
				t.Errorf("%s: the switch names no change", c)
			}
			s.expect(&x)
			if !s.holds(x) {
				t.Errorf("%s: does not hold after its own change (%+v)", c, x)
			}
		}
	}
}
