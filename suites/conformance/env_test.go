package conformance

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
)

// A tenant answers what only a backdoor does with errNoBackdoor, which the
// drivers turn into a skip with their reason, and answers Has from the
// profile alone.
func TestTenantEnvHasNoBackdoor(t *testing.T) {
	var e Env = &tenantEnv{target: &profile.Target{Expect: profile.Expectations{SignUpMethod: nativeauth.SignUpMethodPassword}}}
	ctx := context.Background()
	if err := e.ChangeTenant(ctx, nil); !errors.Is(err, errNoBackdoor) {
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
	before := []backdoor.Config{
		{SignUpMethod: nativeauth.SignUpMethodPassword},
		{SignUpMethod: nativeauth.SignUpMethodOTP, MFA: backdoor.MFAConfig{Enabled: true, Methods: []string{backdoor.StrongMethodEmail}}},
	}
	for c, s := range tenantSwitches {
		if s.what == "" || s.config == nil {
			t.Errorf("%s: the switch names no change", c)
			continue
		}
		for _, cfg := range before {
			cfg.MFA.Methods = slices.Clone(cfg.MFA.Methods)
			s.config(&cfg)
			if x := profile.ExpectationsOf(cfg); !s.holds(x) {
				t.Errorf("%s: does not hold after its own change (signup_method %s, mfa.enabled %v)", c, x.SignUpMethod, x.MFA.Enabled)
			}
		}
	}
}

// A change through the backdoor leaves the expectations the configuration
// read back says, with the profile's attribute values, and its undo puts
// back both the configuration and the expectations.
func TestBackdoorChangeDerivesExpectations(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tg, err := profile.Open(ctx, profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	cfg, err := tg.Backdoor.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	x := profile.ExpectationsOf(cfg)
	if len(x.Attributes) < 3 || x.Attributes[2].Required {
		t.Fatalf("the default tenant: want a third attribute, optional, got %+v", x.Attributes)
	}
	x.Attributes[0].Value = "Profile User" // as a profile's expect block may say
	tg.Expect = x
	b := &backdoorEnv{tenantEnv: &tenantEnv{target: tg, expect: tg.Expect}, b: tg.Backdoor}
	age := x.Attributes[2].Name
	undo, err := b.changeTenant(ctx, func(c *backdoor.Config) {
		c.SignUpMethod = nativeauth.SignUpMethodOTP
		c.Attributes[2].Required = true
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = tg.Backdoor.Config(ctx); err != nil {
		t.Fatal(err)
	}
	got := b.Expect()
	want := profile.ExpectationsOf(cfg)
	want.Attributes[0].Value = "Profile User"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Expect after the change: differs from the configuration read back\nwant %+v\ngot  %+v", want, got)
	}
	if got.SignUpMethod != nativeauth.SignUpMethodOTP || !got.Attributes[2].Required {
		t.Errorf("Expect after the change: want signup_method otp and %s required, got %s and required %v", age, got.SignUpMethod, got.Attributes[2].Required)
	}
	if err := undo(ctx); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b.Expect(), x) {
		t.Errorf("Expect after the undo: want the profile's %+v, got %+v", x, b.Expect())
	}
	if cfg, err = tg.Backdoor.Config(ctx); err != nil || cfg.SignUpMethod != nativeauth.SignUpMethodPassword || cfg.Attributes[2].Required {
		t.Errorf("configuration after the undo: want signup_method password and %s optional, got %s, required %v (%v)", age, cfg.SignUpMethod, cfg.Attributes[2].Required, err)
	}
}
