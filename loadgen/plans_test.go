package loadgen

import (
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/scenarios/plans"
)

// The shipped plans must parse, and smoke must fit well under a minute.
func TestEmbeddedPlans(t *testing.T) {
	names := plans.Names()
	if len(names) != 7 {
		t.Fatalf("embedded plans %v", names)
	}
	for _, n := range names {
		b, err := plans.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePlan(b)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		// A tenant has one sign-up method, so a plan mixing the methods
		// could not run anywhere.
		methods := map[nativeauth.SignUpMethod]bool{}
		for _, sc := range p.Scenarios {
			methods[scenarios.Method(sc.Flow)] = true
		}
		if len(methods) != 1 {
			t.Errorf("%s mixes sign-up methods %v", n, methods)
		}
		if n == "smoke" || n == "smoke-otp" || n == "smoke-mfa" {
			for _, sc := range p.Scenarios {
				if sc.length()+p.GracefulStop > 45e9 {
					t.Errorf("smoke scenario %s lasts %s", sc.Name, sc.length())
				}
			}
		}
	}
	if _, err := plans.Get("nope"); err == nil {
		t.Error("unknown plan must fail")
	}
}
