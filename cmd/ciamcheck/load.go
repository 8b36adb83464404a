package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
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
	segment       string
	segments      int
	startAt       string
	recordStdout  bool
	metricsAddr   string
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
pausing new iterations. A run held back by Retry-After, dropping arrivals
(at max_in_flight, or finding every user of the pool in use) or stopped early
below min_applied, a run that receives a
Retry-After longer than max_retry_after (it ends at once), and a run aborted
for sustained throttling (abort_on_throttle; by default a ratio of 0.5 over a
third of the plan's length, 1s to 30s) are "NOT JUDGED": their thresholds are
shown but decide nothing. A 503's Retry-After is honoured too and counted as
unavailable, not throttled. The setup (unmeasured sign-ups filling user pools)
retries sign-ups answered 429 or 503 after their Retry-After, within
max_retry_after, up to 5 times.

--segment i/n runs one worker's share of a plan split between n workers
(arrivals i-1, i-1+n, ... of every schedule; VUs, iterations, users and
max_rate split, remainders to the first segments); its record is judged on
its own measurement only, and "report merge" of all n judges the plan.
--start-at makes the workers begin together; --record-stdout frames the
record into the output for "report collect" (Kubernetes: kubectl logs);
--metrics-addr serves live Prometheus metrics.

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
  ciamcheck load --plan staging.yaml --segment 2/4 --start-at 2026-11-29T19:00:00Z --out seg-2.json
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
	f.register(cmd)
	return cmd
}

// register declares the flags of `ciamcheck load` on cmd.
func (f *loadFlags) register(cmd *cobra.Command) {
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
	fl.StringVar(&f.segment, "segment", "", "run execution segment i/n of the plan (e.g. 2/4): its share of every scenario's arrivals, VUs, iterations, max_rate and users; default: from $JOB_COMPLETION_INDEX (0-based) when --segments or $"+envSegments+" gives n")
	fl.IntVar(&f.segments, "segments", 0, "the number of segments the plan is split into, for the segment taken from $JOB_COMPLETION_INDEX (default $"+envSegments+")")
	fl.BoolVar(&f.recordStdout, "record-stdout", false, "also write the sealed run record to standard output, framed (begin/end lines, base64) so that \"report collect\" takes it back from the log of a finished pod")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve live Prometheus metrics at http://ADDR/metrics while the run lasts (e.g. 127.0.0.1:9090; :9090 in a pod)")
	fl.StringVar(&f.startAt, "start-at", "", "RFC 3339 wall-clock time to begin the scenarios at, after setup (all workers of a split plan get the same); at most 5s past, 1h ahead")
}

// Environment of a worker in a Kubernetes Indexed Job: the pod's
// completion index, and the number of segments when --segments is not given.
const (
	envCompletionIndex = "JOB_COMPLETION_INDEX"
	envSegments        = "CIAMCHECK_SEGMENTS"
)

// segmentOf is the segment the flags or the Indexed Job's environment
// name; the zero Segment (whole plan) when neither does.
func segmentOf(f loadFlags, getenv func(string) string) (reports.Segment, error) {
	if f.segment != "" {
		return reports.ParseSegment(f.segment)
	}
	count := f.segments
	if count == 0 {
		if v := getenv(envSegments); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return reports.Segment{}, fmt.Errorf("$%s %q: want the number of segments", envSegments, v)
			}
			count = n
		}
	}
	idx := getenv(envCompletionIndex)
	if count == 0 {
		return reports.Segment{}, nil
	}
	if idx == "" {
		return reports.Segment{}, fmt.Errorf("%d segments asked for, but no --segment and no $%s to say which", count, envCompletionIndex)
	}
	i, err := strconv.Atoi(idx)
	if err != nil {
		return reports.Segment{}, fmt.Errorf("$%s %q: want a 0-based index", envCompletionIndex, idx)
	}
	seg := reports.Segment{Index: i + 1, Count: count}
	return seg, seg.Check()
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
	in, err := readLoadInputs(f, stderr)
	if err != nil {
		return startFail(err)
	}
	var metrics prometheus.Registerer
	if f.metricsAddr != "" {
		var stop func()
		if metrics, stop, err = serveLoadMetrics(ctx, f.metricsAddr, in, stderr); err != nil {
			return startFail(err)
		}
		defer stop()
	}

	tgt, err := profile.Open(ctx, in.prof)
	if err != nil {
		return startFail(err)
	}
	defer tgt.Close()
	if err := tgt.Preflight(ctx); err != nil {
		return startFail(err)
	}
	if !in.seg.Whole() {
		tgt.Users.InSegment(in.seg.Index, in.seg.Count)
	}

	s := tgt.Summary()
	rec := reports.NewRecord(reports.KindLoad,
		tool(),
		reports.Target{Kind: s.Kind, BaseURL: s.BaseURL, Tenant: s.Tenant, ClientID: s.ClientID, ProfileHash: s.ProfileHash})

	fmt.Fprintf(stderr, "load: plan %s against %s (%s)\n", in.plan.Name, s.BaseURL, s.Kind)
	if in.seg != (reports.Segment{}) {
		fmt.Fprintf(stderr, "load: segment %s of the plan\n", in.seg)
	}
	opts := loadgen.Options{
		TargetURL:          tgt.BaseURL,
		HlogPath:           f.hlog,
		Interval:           f.interval,
		PlainProgressEvery: f.progressEvery,
		Logger:             slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Segment:            in.seg,
		StartAt:            in.startAt,
		Metrics:            metrics,
	}
	if !f.quiet {
		opts.Progress = stdout
	}
	result, err := loadgen.Run(ctx, in.plan, flowFactory(tgt, in.shared, f.pollInterval, in.plan.MaxRetryAfter), opts)
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
	if err := writeLoadOutputs(stdout, f, rec); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if !verdict.Passed() {
		return &exitError{code: verdict.Status.ExitCode(), err: fmt.Errorf("load: %s", verdict.Reason)}
	}
	return nil
}

// loadInputs is what the flags of `ciamcheck load` name, read and checked
// before the target is opened, so a mistake in them costs no setup.
type loadInputs struct {
	plan    *loadgen.Plan
	seg     reports.Segment
	startAt time.Time
	prof    *profile.Profile
	// shared is the user pool read from --users; nil without it.
	shared *scenarios.UserPool
}

func readLoadInputs(f loadFlags, stderr io.Writer) (loadInputs, error) {
	var in loadInputs
	var err error
	if in.plan, err = readPlan(f.plan); err != nil {
		return in, err
	}
	if err := reports.CheckSealKeys(); (f.out != "" || f.recordStdout) && err != nil {
		return in, err
	}
	if in.seg, err = segmentOf(f, os.Getenv); err != nil {
		return in, err
	}
	if in.startAt, err = parseStartAt(f.startAt, time.Now()); err != nil {
		return in, err
	}
	in.prof = profile.Default()
	if f.target != "" {
		if in.prof, err = profile.Load(f.target); err != nil {
			return in, err
		}
	}
	if f.pollInterval > 0 && in.prof.Kind != profile.KindEmulator {
		return in, errors.New("--poll-interval is for emulator targets only: a tenant must be polled no faster than it asks")
	}
	if f.users != "" {
		in.shared = scenarios.NewUserPool()
		n, err := in.shared.LoadFileShare(f.users, in.seg.Owns)
		if err != nil {
			return in, err
		}
		fmt.Fprintf(stderr, "load: %d users from %s\n", n, f.users)
	}
	return in, nil
}

// parseStartAt reads --start-at; the zero time when it is not given.
func parseStartAt(arg string, now time.Time) (time.Time, error) {
	if arg == "" {
		return time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339, arg)
	if err != nil {
		return time.Time{}, fmt.Errorf("--start-at: want an RFC 3339 time such as 2026-11-29T19:00:00Z: %w", err)
	}
	if err := loadgen.CheckStartAt(at, now); err != nil {
		return time.Time{}, fmt.Errorf("--start-at: %w", err)
	}
	return at, nil
}

// serveLoadMetrics serves a registry of the process's own metrics at addr
// and returns it labelled with the plan and segment, for loadgen's metrics.
func serveLoadMetrics(ctx context.Context, addr string, in loadInputs, stderr io.Writer) (prometheus.Registerer, func(), error) {
	metrics := prometheus.NewRegistry()
	labelled := prometheus.WrapRegistererWith(loadgen.MetricLabels(in.plan, in.seg), metrics)
	labelled.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	served, stop, err := loadgen.ServeMetrics(ctx, addr, metrics)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(stderr, "load: metrics at http://%s/metrics\n", served)
	return labelled, stop, nil
}

// writeLoadOutputs writes the record where the flags ask for it and names
// the files written.
func writeLoadOutputs(stdout io.Writer, f loadFlags, rec *reports.Record) error {
	if f.out != "" {
		if err := reports.WriteFile(f.out, rec); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "run record: %s\n", f.out)
	}
	if f.hlog != "" {
		fmt.Fprintf(stdout, "interval histograms: %s\n", f.hlog)
	}
	if f.recordStdout {
		var b bytes.Buffer
		if err := reports.Write(&b, rec); err != nil {
			return err
		}
		if err := reports.WriteFramed(stdout, b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// flowFactory builds each scenario's flow on the opened target. Every
// scenario gets its own user pool, filled by its setup, unless users came
// from a file: then all scenarios share that pool, which hands each user to
// one iteration at a time.
func flowFactory(tgt *profile.Target, shared *scenarios.UserPool, pollInterval, maxRetryAfter time.Duration) loadgen.FlowFactory {
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
			Password:     tgt.Expect.PasswordPolicy.ForNewPasswords(),
			PollInterval: pollInterval,
			SignUpMethod: tgt.Expect.SignUpMethod,
			// The setup honours Retry-After within the plan's cap.
			MaxRetryAfter: maxRetryAfter,
		})
	}
}
