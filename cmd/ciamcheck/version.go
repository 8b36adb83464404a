package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/ciamcheck/ciamcheck/reports"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// tool is what run records say about this binary: version, VCS revision and
// dirty flag, read from the build information the go command embeds.
func tool() reports.Tool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return toolFrom(bi, version)
}

// toolFrom builds the record's tool from build information (nil when the
// binary has none) and the -ldflags version, which wins over the module
// version so a release build names its tag even when built from a
// checkout (where the module version is "(devel)").
func toolFrom(bi *debug.BuildInfo, ldflagsVersion string) reports.Tool {
	t := reports.Tool{Name: "ciamcheck", Version: ldflagsVersion, GoVersion: runtime.Version()}
	if bi == nil {
		return t
	}
	if bi.GoVersion != "" {
		t.GoVersion = bi.GoVersion
	}
	if ldflagsVersion == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		t.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			t.Revision = s.Value
		case "vcs.modified":
			t.Dirty = s.Value == "true"
		case "vcs.time":
			if ts, err := time.Parse(time.RFC3339, s.Value); err == nil {
				t.RevisionTime = ts.UTC()
			}
		}
	}
	return t
}

// versionLine is what `ciamcheck version` prints, e.g.
// "ciamcheck v0.3.0 (rev abc1234, dirty) built from a commit of
// 2026-11-29T17:00:00Z, go1.26.0 linux/amd64".
func versionLine(t reports.Tool) string {
	line := t.String()
	if t.Revision == "" {
		line += " (no VCS revision: built outside a checkout or with -buildvcs=false)"
	} else if !t.RevisionTime.IsZero() {
		line += ", commit of " + t.RevisionTime.Format(time.RFC3339)
	}
	return fmt.Sprintf("%s, %s %s/%s", line, t.GoVersion, runtime.GOOS, runtime.GOARCH)
}

func init() {
	subcommands = append(subcommands, func() *cobra.Command {
		return &cobra.Command{
			Use:   "version",
			Short: "Print the ciamcheck version, VCS revision and dirty flag",
			Long: `Print the version written into run records: the release version (set with
-ldflags "-X main.version=…", else the module version), the VCS revision the
binary was built from and whether the working tree had uncommitted changes.`,
			Example: "  ciamcheck version",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), versionLine(tool()))
				return err
			},
		}
	})
}
