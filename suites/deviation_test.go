package suites_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
	"github.com/ciamcheck/ciamcheck/suites/conformance"
)

// outboxCode reads the newest code the wrapped emulator sent to username
// through its backdoor, for the deviation that accepts any code.
func outboxCode(inner http.Handler, username string) (string, bool) {
	req := httptest.NewRequest(http.MethodGet, backdoor.Prefix+backdoor.PathOutbox+"?"+url.Values{"username": {username}}.Encode(), nil)
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return "", false
	}
	a, err := backdoor.DecodeOutbox(rec.Body.Bytes())
	if err != nil {
		return "", false
	}
	m, ok := a.Newest(time.Time{})
	return m.Code.Reveal(), ok
}

// unreachable lists the catalog entries no request can reach on the
// default emulator, with the reason the review accepted. The plain emulator
// run must skip exactly these: any other skip is a gap in the emulator or
// the suite, and one of these that runs means the list is stale.
var unreachable = map[string]string{
	"signup.start.error.invalid_grant.password_recently_used":    "a user who is signing up has no previous password",
	"signup.continue.error.invalid_grant.password_recently_used": "a user who is signing up has no previous password",
}

// expectation is what a deviation must make the suite report: the catalog
// entries that must fail, each naming the broken field.
type expectation struct {
	field string // the Failure field the reason must name
	cases func(catalog.Entry) bool
	// flows are flow keys whose specs must fail too.
	flows []string
}

var expectations = map[string]expectation{
	"missing-suberror": {field: "body.suberror", cases: func(c catalog.Entry) bool {
		// The MFA entries' walks need mfa_required or registration_required
		// to get there: without suberrors their setup fails before the
		// answer they document.
		return c.Expect.Suberror != "" && !slices.Contains(c.Needs, profile.CapMFA)
	}},
	"wrong-status": {field: "status", cases: func(c catalog.Entry) bool {
		// The rewrite touches invalid_client answers only; unknown client
		// IDs may be answered unauthorized_client, which the pages allow.
		return c.Expect.Error == nativeauth.ErrInvalidClient && (c.Trigger.Name == catalog.TriggerDisabledClient || c.Trigger.Name == catalog.TriggerConfidentialClient)
	}},
	"cors": {field: "header Access-Control-Allow-Origin", cases: func(c catalog.Entry) bool {
		return !slices.Contains(c.Labels, catalog.LabelSlow)
	}},
	"bad-signature": {field: "body.id_token", cases: func(c catalog.Entry) bool {
		// Every entry whose spec ends in a token answer with an id_token:
		// the success entries, and the protocol and code entries that ask
		// for tokens with openid.
		return c.Endpoint == nativeauth.EndpointToken && c.Kind == catalog.KindSuccess ||
			c.Trigger.Name == catalog.TriggerScopeWithoutOffline || c.Trigger.Name == catalog.TriggerSignUpComplete
	}},
	"wrong-otp-accepted": {field: "status", cases: func(c catalog.Entry) bool {
		return c.Trigger.Name == catalog.TriggerOOBWrong || c.Trigger.Name == catalog.TriggerMFAOOBWrong
	}, flows: []string{"signup.new-challenge-invalidates-code"}},
	"mfa-required-without-token": {field: "body.continuation_token", cases: func(c catalog.Entry) bool {
		return c.Trigger.Name == catalog.TriggerMFARequired
	}},
	"introspect-hint-unmasked": {field: "body.methods", cases: func(c catalog.Entry) bool {
		return c.ID == "signin.introspect.success"
	}, flows: []string{"mfa.email", "mfa.sms", "mfa.after-reset"}},
	"refresh-token-always": {field: "body.refresh_token", cases: func(c catalog.Entry) bool {
		return c.Trigger.Name == catalog.TriggerScopeWithoutOffline
	}, flows: []string{"signin.refresh"}},
	"malformed-client-id-unknown": {field: "body.error", cases: func(c catalog.Entry) bool {
		return c.Trigger.Name == catalog.TriggerClientIDEmpty || c.Trigger.Name == catalog.TriggerClientIDMalformed
	}},
	"missing-continuation-token": {field: "body.continuation_token", cases: func(c catalog.Entry) bool {
		return c.Endpoint == nativeauth.EndpointSignUpStart && c.Kind == catalog.KindSuccess
	}},
}

// skipUnlessOuterRun skips tests that re-execute the suite: with -short,
// inside such a re-execution, and in all but one ginkgo -p process.
func skipUnlessOuterRun(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("re-executes the suite; skipped with -short")
	}
	if os.Getenv(deviationEnv) != "" {
		t.Skip("inside a deviation run")
	}
	if sc, _ := GinkgoConfiguration(); sc.ParallelTotal > 1 {
		t.Skip("run once, not in every ginkgo -p process")
	}
}

// TestDeviations re-runs the suite in a subprocess against the emulator
// wrapped with each deviation and checks, in the run record, that exactly
// the entries the deviation breaks failed and name the broken field. Only
// the specs that could notice are run, to keep this test to seconds.
func TestDeviations(t *testing.T) {
	skipUnlessOuterRun(t)
	dir := t.TempDir()
	// The plain emulator first: it must pass with zero failures, and what
	// it skips (a case the target cannot reach) no deviation can fail.
	base, _ := runSuite(t, dir, "", nil)
	if base == nil {
		t.Fatal("the plain emulator run left no record")
	}
	ran := checkReached(t, "plain emulator", base)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2) // the machine has two cores
	for name, exp := range expectations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			checkDeviation(t, dir, name, exp, ran)
		}()
	}
	wg.Wait()
}

// checkReached checks a run against an emulator without deviation: no
// entry failed, and every entry was reached by the trigger the catalog names
// except the reviewed unreachable ones, which must skip. It returns the
// entries that passed.
func checkReached(t *testing.T, what string, rec *reports.Record) map[string]bool {
	t.Helper()
	ran := map[string]bool{}
	outcome := map[string]reports.Outcome{}
	for _, e := range rec.Conformance.Entries {
		outcome[e.ID] = e.Outcome
		switch e.Outcome {
		case reports.OutcomeFailed:
			t.Errorf("%s: %s failed: %s", what, e.ID, e.Reason)
		case reports.OutcomePassed:
			ran[e.ID] = true
		case reports.OutcomeSkipped:
			if _, ok := unreachable[e.ID]; !ok {
				t.Errorf("%s: %s skipped (%s); only the reviewed unreachable entries may skip on the emulator", what, e.ID, e.Reason)
			}
		}
	}
	for id := range unreachable {
		if o := outcome[id]; o != reports.OutcomeSkipped {
			t.Errorf("%s: %s is listed as unreachable but was %q; review the list", what, id, o)
		}
	}
	return ran
}

// TestReachedOnOTPEmulator runs the whole suite against the emulator
// configured for sign-up by email one-time passcode: the specs written for
// the other method switch it through the backdoor, so every entry is
// reached there too.
func TestReachedOnOTPEmulator(t *testing.T) {
	skipUnlessOuterRun(t)
	checkReached(t, "OTP emulator", runProfile(t, "emulator-otp.yaml", nil))
}

// runProfile runs the suite, focused on ids (nil for all), against the
// plain emulator as the profile testdata/name configures it, and returns
// its run record.
func runProfile(t *testing.T, name string, ids []string) *reports.Record {
	t.Helper()
	profile, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := runSuiteOn(t, t.TempDir(), profile, "", ids)
	if rec == nil {
		t.Fatalf("the run on %s left no record", name)
	}
	return rec
}

func checkDeviation(t *testing.T, dir, name string, exp expectation, ran map[string]bool) {
	var want []string
	for _, c := range catalog.All() {
		if exp.cases(c) && ran[c.ID] {
			want = append(want, c.ID)
		}
	}
	for _, f := range exp.flows {
		if id := conformance.FlowID(f); id != "" && ran[id] {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if len(want) == 0 {
		t.Errorf("%s: the catalog has no entry this deviation breaks", name)
		return
	}
	rec, err := runSuite(t, dir, name, want)
	if err == nil {
		t.Errorf("%s: the suite passed a server with this deviation", name)
	}
	if rec == nil {
		return
	}
	rows := map[string]reports.EntryResult{}
	for _, e := range rec.Conformance.Entries {
		rows[e.ID] = e
	}
	for _, id := range want {
		row := rows[id]
		if row.Outcome != reports.OutcomeFailed {
			t.Errorf("%s: entry %s is %s (%s), want failed", name, id, row.Outcome, row.Reason)
			continue
		}
		if !strings.Contains(row.Reason, exp.field) {
			t.Errorf("%s: entry %s failed without naming %q:\n%s", name, id, exp.field, row.Reason)
		}
	}
	checkReadable(t, name, rec)
}

// goValueDump matches what Gomega's matchers print into a failure: pointer
// addresses and Go values with their type (<*fmt.wrapError | 0x2b8…>: …,
// <int>: 400).
var goValueDump = regexp.MustCompile(`0x[0-9a-f]{6,}|<\*?[\w./\[\]]+( \| 0x[0-9a-f]+)?>: |Unexpected error:|Expected success, but got`)

// checkReadable renders a deviation run's record in every format and
// fails on a Go value dump: failures read "field: want X, got Y".
func checkReadable(t *testing.T, name string, rec *reports.Record) {
	t.Helper()
	for _, e := range rec.Conformance.Entries {
		if m := goValueDump.FindString(e.Reason); e.Outcome == reports.OutcomeFailed && m != "" {
			t.Errorf("%s: %s's reason holds a Go value dump %q:\n%s", name, e.ID, m, e.Reason)
		}
	}
	for format, render := range map[string]func(io.Writer, *reports.Record) error{
		"text": reports.RenderText, "markdown": reports.RenderMarkdown, "html": reports.RenderHTML, "junit": reports.RenderJUnit,
	} {
		var b bytes.Buffer
		if err := render(&b, rec); err != nil {
			t.Errorf("%s: render %s: %v", name, format, err)
		} else if m := goValueDump.FindString(b.String()); m != "" {
			t.Errorf("%s: the %s report holds a Go value dump %q", name, format, m)
		}
	}
}

// runSuite re-executes this test binary's TestConformance against the
// emulator wrapped with the named deviation ("" for none), focused on the
// given entries (nil for all), and returns its run record and exit error.
func runSuite(t *testing.T, dir, deviation string, ids []string) (*reports.Record, error) {
	return runSuiteOn(t, dir, "", deviation, ids)
}

// runSuiteOn is runSuite against the target profile at profile ("" for
// the embedded emulator).
func runSuiteOn(t *testing.T, dir, profile, deviation string, ids []string) (*reports.Record, error) {
	args := []string{"-test.run", "^TestConformance$", "-ginkgo.no-color", "-ginkgo.label-filter", "!slow"}
	if len(ids) > 0 {
		var focus []string
		for _, id := range ids {
			// The ID alone or among the several a flow spec names.
			focus = append(focus, `\[catalog:([^\]]*,)?`+regexp.QuoteMeta(id)+`(,[^\]]*)?\]`)
		}
		args = append(args, "-ginkgo.focus", strings.Join(focus, "|"))
	}
	name := deviation
	if name == "" {
		name = "plain"
	}
	out := filepath.Join(dir, name+".json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), deviationEnv+"="+deviation, "CIAMCHECK_OUT="+out, "CIAMCHECK_TARGET="+profile)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	runErr := cmd.Run()
	rec, err := reports.ReadFile(out)
	if err != nil {
		t.Errorf("%s: no run record: %v\n%s", name, err, tail(stdout.String()))
		return nil, runErr
	}
	return rec, runErr
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// TestProfileScopesWithoutOfflineAccess runs the token endpoint's entries
// against the plain emulator with a profile whose scopes leave out
// offline_access: the entries that document a refresh_token must still ask
// for it, so a conforming target passes every one.
func TestProfileScopesWithoutOfflineAccess(t *testing.T) {
	skipUnlessOuterRun(t)
	var ids []string
	for _, c := range catalog.All() {
		if c.Endpoint == nativeauth.EndpointToken {
			ids = append(ids, c.ID)
		}
	}
	rec := runProfile(t, "emulator-openid-only.yaml", ids)
	passed := 0
	for _, e := range rec.Conformance.Entries {
		if !slices.Contains(ids, e.ID) {
			continue
		}
		switch e.Outcome {
		case reports.OutcomeFailed:
			t.Errorf("%s failed against the plain emulator: %s", e.ID, e.Reason)
		case reports.OutcomePassed:
			passed++
		}
	}
	if passed == 0 {
		t.Error("no token entry passed")
	}
}

// TestRunPath runs the suite the way the ciamcheck binary does
// (conformance.Run) with a label filter: every entry that passed carries
// its evidence, and a filter that selects nothing fails the run.
func TestRunPath(t *testing.T) {
	skipUnlessOuterRun(t)
	dir := t.TempDir()
	run := func(filter string) (*reports.Record, string, error) {
		out := filepath.Join(dir, "run.json")
		_ = os.Remove(out)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestConformance$")
		cmd.Env = append(os.Environ(), viaRunEnv+"="+filter, "CIAMCHECK_OUT="+out, "CIAMCHECK_TARGET=", deviationEnv+"=")
		output, err := cmd.CombinedOutput()
		rec, _ := reports.ReadFile(out)
		return rec, string(output), err
	}
	rec, output, err := run("endpoint:signup.start")
	if err != nil || rec == nil {
		t.Fatalf("run with a label filter: %v\n%s", err, tail(output))
	}
	passed := 0
	for _, e := range rec.Conformance.Entries {
		if e.Outcome != reports.OutcomePassed {
			continue
		}
		passed++
		if len(e.Evidence) == 0 {
			t.Errorf("%s passed with no evidence", e.ID)
		}
	}
	if passed == 0 {
		t.Error("no entry passed")
	}
	if _, output, err := run("flow:sigup"); err == nil || !strings.Contains(output, "selects no spec") {
		t.Errorf("a filter that selects nothing: err = %v\n%s", err, tail(output))
	}
}
