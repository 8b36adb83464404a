// Package suites_test runs the conformance specs with `go test ./suites/...`
// or `ginkgo -p ./suites` against the target in CIAMCHECK_TARGET (default:
// the embedded emulator), and proves the suite catches a deviating server.
package suites_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ciamcheck/ciamcheck/suites/conformance"
	"github.com/ciamcheck/ciamcheck/suites/internal/deviation"
)

// deviationEnv selects a deviation for a re-executed test binary.
const deviationEnv = "CIAMCHECK_DEVIATION"

// viaRunEnv makes a re-executed test binary run the suite the way the
// ciamcheck binary does, through conformance.Run, with its value as the
// label filter.
const viaRunEnv = "CIAMCHECK_VIA_RUN"

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	cfg := conformance.ConfigFromEnv()
	name := os.Getenv(deviationEnv)
	if name != "" {
		mw, ok := deviation.All(outboxCode)[name]
		if !ok {
			t.Fatalf("%s=%q: no such deviation (have %v)", deviationEnv, name, deviation.Names())
		}
		cfg.WrapHandler = mw
	}
	if filter, ok := os.LookupEnv(viaRunEnv); ok {
		rec, passed, err := conformance.Run(conformance.Options{Config: cfg, LabelFilter: filter, NoColor: true})
		if err != nil {
			t.Fatal(err)
		}
		if !passed {
			t.Fatalf("failed: %v", conformance.FailedIDs(rec))
		}
		return
	}
	conformance.Configure(cfg)
	// The plain emulator must pass with zero failures: no list of expected
	// failures, so a regression in the emulator or the suite fails here.
	RunSpecs(t, conformance.SuiteDescription)
}
