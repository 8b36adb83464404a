package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ciamcheck/ciamcheck/loadgen"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/scenarios/plans"
)

func init() { subcommands = append(subcommands, newLoadCmd) }

// loadFlags are the flags of `ciamcheck load`.
type loadFlags struct {
	target        string
	plan          string
	out           string
	hlog          string
	users         string
	interval      time.Duration
	progressEvery time.Duration
	pollInterval  time.Duration
	quiet         bool
	listPlans     bool
}

const defaultPlan = "smoke"

func newLoadCmd() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Drive concurrent full flows and measure every step (HdrHistogram per step)",
		Long: `load runs a load plan: scenarios of full flows (sign-up, sign-in, password
reset), each driven by an executor — open model (constant-arrival-rate,
ramping-arrival-rate: iterations start on schedule whether or not earlier ones
finished) or closed model (constant-vus, ramping-vus). Every step's latency is
recorded in an HdrHistogram twice: service time (request sent → response) and
response time (intended start → response), so a stalled server shows in the
percentiles instead of hiding behind a slower send rate.

--plan takes a plan file or the name of a built-in plan (see --list-plans);
the default is the smoke plan, which runs every flow at a low rate for about
20 seconds. With no --target it starts the embedded emulator on a loopback
port. Against a target off loopback the plan must set max_rate.

Live progress is drawn as bars on a terminal and, when the output is not a
terminal (CI), as one line per scenario every --progress-every (10s) and once
at the end. At the end a summary table per scenario and step is printed, the
plan's thresholds are evaluated, and the run record is written; the record
carries the thresholds, so "ciamcheck report" judges it again the same way
(and "ciamcheck report merge" judges records of several workers as one run).
A plan holds two settings that decide whether the run can be judged at all:
min_applied (default 95%) is the share of its schedule every scenario must
apply — arrivals sent for the open model, time run for the closed model — and
max_retry_after (default 30s) is the longest Retry-After the run honours by
pausing new iterations. A run held back by Retry-After, dropping arrivals at
max_in_flight or stopped early below min_applied, a run that receives a
Retry-After longer than max_retry_after (it ends at once), and a run aborted
for sustained throttling (abort_on_throttle; by default a ratio of 0.5 over a
third of the plan's length, 1s to 30s) are "NOT JUDGED": their thresholds are
shown but decide nothing. A 503's Retry-After is honoured too and counted as
unavailable, not throttled. The setup (unmeasured sign-ups filling user pools)
retries sign-ups answered 429 or 503 after their Retry-After, within
max_retry_after, up to 5 times.

Ctrl-C or SIGTERM stops gracefully (in-flight flows get the plan's
graceful_stop; the record and the .hlog are still written, the record saying
"interrupted"); a second Ctrl-C quits at once.

Transport failures (no HTTP answer) are counted per step by class — dns,
refused, timeout, tls, reset, other — with one example message each.

Exit status: 0 the load was applied and every threshold and measurement check
passed; 1 a threshold or a measurement check failed; 2 could not judge: the
run could not start (plan, profile, target, setup), was interrupted, or did
not apply its load (see above).`,
		Example: `  ciamcheck load
  ciamcheck load --plan baseline --out load.json --hlog load.hlog
  ciamcheck load --target staging.yaml --plan my-plan.yaml --users users.csv
  ciamcheck load --list-plans
  ciamcheck report load.json --compare previous-load.json --fail-on-regression`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.listPlans {
				return listPlans(cmd.OutOrStdout())
			}
			return runLoad(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "target profile YAML (default: the embedded emulator)")
	fl.StringVar(&f.plan, "plan", defaultPlan, "load plan: a YAML file, or a built-in plan name ("+strings.Join(plans.Names(), ", ")+")")
	fl.StringVar(&f.out, "out", "", "write the run record (JSON) to this file")
	fl.StringVar(&f.hlog, "hlog", "", "write interval histograms to this file in the HdrHistogram log format")
	fl.StringVar(&f.users, "users", "", "users for sign-in and reset flows: JSON lines or CSV (username,password); setup tops the pool up to the plan's setup.users")
	fl.DurationVar(&f.interval, "interval", time.Second, "progress and .hlog interval")
	fl.DurationVar(&f.progressEvery, "progress-every", loadgen.DefaultPlainProgressEvery, "when the output is not a terminal (CI logs), write progress lines this often")
	fl.DurationVar(&f.pollInterval, "poll-interval", 0, "emulator targets only: poll password-reset completion this often instead of the poll_interval the API asks for")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no live progress")
	fl.BoolVar(&f.listPlans, "list-plans", false, "print the built-in plans and exit")
	return cmd
}

func listPlans(w io.Writer) error {
	for _, name := range plans.Names() {
		raw, err := plans.Get(name)
		if err != nil {
			return fmt.Errorf("built-in plan %s: %w", name, err)
		}
		p, err := loadgen.ParsePlan(raw)
		if err != nil {
			return fmt.Errorf("built-in plan %s: %w", name, err)
		}
		if _, err := fmt.Fprintf(w, "%-10s %s\n", name, p.Description); err != nil {
			return err
		}
	}
	return nil
}

// readPlan takes a file path, or the name of a built-in plan when no file
// of that name exists.
func readPlan(arg string) (*loadgen.Plan, error) {
	if _, err := os.Stat(arg); err == nil {
		return loadgen.LoadPlan(arg)
	}
	raw, err := plans.Get(strings.TrimSuffix(arg, ".yaml"))
	if err != nil {
		return nil, fmt.Errorf("plan %q is neither a file nor a built-in plan (%s): %w", arg, strings.Join(plans.Names(), ", "), err)
	}
	return loadgen.ParsePlan(raw)
}

func runLoad(ctx context.Context, stdout, stderr io.Writer, f loadFlags) error {
	startFail := func(err error) error { return &exitError{code: 2, err: fmt.Errorf("load: %w", err)} }
	plan, err := readPlan(f.plan)
	if err != nil {
		return startFail(err)
	}
	if err := reports.CheckSealKeys(); f.out != "" && err != nil {
		return startFail(err)
	}
	prof := profile.Default()
	if f.target != "" {
		if prof, err = profile.Load(f.target); err != nil {
			return startFail(err)
		}
	}
	if f.pollInterval > 0 && prof.Kind != profile.KindEmulator {
		return startFail(errors.New("--poll-interval is for emulator targets only: a tenant must be polled no faster than it asks"))
	}
	var shared *scenarios.UserPool
	if f.users != "" {
		shared = scenarios.NewUserPool()
		n, err := shared.LoadFile(f.users)
		if err != nil {
			return startFail(err)
		}
		fmt.Fprintf(stderr, "load: %d users from %s\n", n, f.users)
	}

	tgt, err := profile.Open(ctx, prof)
	if err != nil {
		return startFail(err)
	}
	defer tgt.Close()
	if err := tgt.Preflight(ctx); err != nil {
		return startFail(err)
	}

	s := tgt.Summary()
	rec := reports.NewRecord(reports.KindLoad,
		tool(),
		reports.Target{Kind: s.Kind, BaseURL: s.BaseURL, Tenant: s.Tenant, ClientID: s.ClientID, ProfileHash: s.ProfileHash})

	fmt.Fprintf(stderr, "load: plan %s against %s (%s)\n", plan.Name, s.BaseURL, s.Kind)
	opts := loadgen.Options{
		TargetURL:          tgt.BaseURL,
		HlogPath:           f.hlog,
		Interval:           f.interval,
		PlainProgressEvery: f.progressEvery,
		Logger:             slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if !f.quiet {
		opts.Progress = stdout
	}
	result, err := loadgen.Run(ctx, plan, flowFactory(tgt, shared, f.pollInterval, plan.MaxRetryAfter), opts)
	if err != nil {
		return startFail(err)
	}
	rec.Load = result
	rec.EndedAt = time.Now().UTC()

	verdict := reports.Judge(rec)
	fmt.Fprintln(stdout)
	if err := reports.WriteLoadSummary(stdout, result, verdict); err != nil {
		return fmt.Errorf("load: summary: %w", err)
	}
	if f.out != "" {
		if err := reports.WriteFile(f.out, rec); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		fmt.Fprintf(stdout, "run record: %s\n", f.out)
	}
	if f.hlog != "" {
		fmt.Fprintf(stdout, "interval histograms: %s\n", f.hlog)
	}
	if !verdict.Passed() {
		return &exitError{code: verdict.Status.ExitCode(), err: fmt.Errorf("load: %s", verdict.Reason)}
	}
	return nil
}

// flowFactory builds each scenario's flow on the opened target. Every
// scenario gets its own user pool, filled by its setup, unless users came
// from a file: then all scenarios share that pool, which hands each user to
// one iteration at a time.
func flowFactory(tgt *profile.Target, shared *scenarios.UserPool, pollInterval, maxRetryAfter time.Duration) loadgen.FlowFactory {
	pp := tgt.Expect.PasswordPolicy
	return func(name string) (scenarios.Flow, error) {
		pool := shared
		if pool == nil {
			pool = scenarios.NewUserPool()
		}
		return scenarios.New(name, scenarios.Config{
			Client:       tgt.Client,
			OTP:          tgt.OTP,
			Users:        tgt.Users,
			Attributes:   tgt.Expect.RequiredAttributes(),
			Scopes:       tgt.Profile.Scopes,
			Pool:         pool,
			Password:     scenarios.PasswordPolicy{MinLength: pp.MinLength, MaxLength: pp.MaxLength, Banned: pp.Banned},
			PollInterval: pollInterval,
			SignUpMethod: tgt.Expect.SignUpMethod,
			// The setup honours Retry-After within the plan's cap.
			MaxRetryAfter: maxRetryAfter,
		})
	}
}
