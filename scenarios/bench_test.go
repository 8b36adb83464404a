package scenarios_test

import (
	"context"
	"testing"

	"github.com/ciamcheck/ciamcheck/scenarios"
)

// BenchmarkFlows measures one iteration of each flow against the in-process
// emulator over loopback: the harness's own cost per iteration, which bounds
// the load one generator process can offer. sspr flows poll with the
// shortened test interval.
func BenchmarkFlows(b *testing.B) {
	for _, name := range []string{scenarios.FlowSignUpPassword, scenarios.FlowSignUpPasswordContinue, scenarios.FlowSignInPassword, scenarios.FlowSSPR} {
		b.Run(name, func(b *testing.B) {
			cfg := newEmulator(b, nil)
			cfg.Pool = scenarios.NewUserPool()
			f, err := scenarios.New(name, cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if s, ok := f.(interface {
				Setup(context.Context, int) error
			}); ok {
				if err := s.Setup(ctx, 4); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := f.Run(ctx, scenarios.Iteration{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
