package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ciamcheck/ciamcheck/reports"
)

// Environment of the browser test (make browser-test sets them).
const (
	// browserTestEnv asks for the test; without it the test skips, so a
	// plain go test ./... needs no browser.
	browserTestEnv = "CIAMCHECK_BROWSER_TEST"
	// browserEnv names the Chromium binary; otherwise the usual names are
	// looked up on PATH.
	browserEnv = "CIAMCHECK_BROWSER"
	// artifactsEnv is the folder for the screenshots and the reports;
	// a temporary folder otherwise.
	artifactsEnv = "CIAMCHECK_BROWSER_ARTIFACTS"
)

// findBrowser is the Chromium to drive: $CIAMCHECK_BROWSER, or the first
// of the usual names on PATH.
func findBrowser() (string, error) {
	if p := os.Getenv(browserEnv); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: install it (apt-get install chromium), or set " + browserEnv)
}

// TestReportsInBrowser renders the reports of real runs against the
// embedded emulator (conformance and load, passing, failing and compared)
// in headless Chromium and checks what a reader gets: no console error, no
// request but the file itself, every chart drawn with a size, and a
// conformance filter that changes what is shown. Screenshots go to the
// artifacts folder. Asked for and without a browser, it fails.
func TestReportsInBrowser(t *testing.T) {
	if os.Getenv(browserTestEnv) == "" {
		t.Skipf("set %s=1 (make browser-test) to render the reports in headless Chromium", browserTestEnv)
	}
	exe, err := findBrowser()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(reports.RecordKeyEnv, "")
	dir := browserArtifacts(t)
	t.Logf("browser %s; screenshots and reports in %s", exe, dir)
	at := func(name string) string { return filepath.Join(dir, name) }
	writeBrowserRecords(t, at)

	pages := []struct {
		name, record, compare string
		failed, skipped       int // conformance: entries the filter shows
	}{
		{name: "conformance-passed", record: "conformance.json", failed: 0, skipped: -1},
		{name: "conformance-failed", record: "conformance-failed.json", compare: "conformance.json", failed: failedEntries, skipped: -1},
		{name: "load-passed", record: "load.json"},
		{name: "load-failed-compared", record: "load-failed.json", compare: "load.json"},
	}
	browser := headlessBrowser(t, exe)
	checkControlPage(t, browser, at("control.html"))
	for _, pg := range pages {
		t.Run(pg.name, func(t *testing.T) {
			args := []string{"report", at(pg.record), "--format", "html", "--out", at(pg.name + ".html")}
			if pg.compare != "" {
				args = append(args, "--compare", at(pg.compare))
			}
			if _, _, err := runCLI(args...); exitCode(err) == exitCouldNotRun || exitCode(err) == exitBadRecord {
				t.Fatalf("report: %v", err)
			}
			rec := readRecord(t, at(pg.record))
			checkPage(t, browser, at(pg.name+".html"), at(pg.name), rec, pg.failed, pg.skipped)
		})
	}
}

// browserArtifacts is the folder for the records, pages and screenshots:
// $CIAMCHECK_BROWSER_ARTIFACTS when set, else a temporary one.
func browserArtifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(artifactsEnv)
	if dir == "" {
		dir = t.TempDir()
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeBrowserRecords writes the records the pages render: a conformance
// run, the same run with entries made to fail, and two load runs, one
// judged failed by a threshold it cannot meet.
func writeBrowserRecords(t *testing.T, at func(name string) string) {
	t.Helper()
	if _, _, err := runCLI("conformance", "--out", at("conformance.json")); err != nil {
		t.Fatalf("conformance: %v", err)
	}
	failConformance(t, at("conformance.json"), at("conformance-failed.json"))
	plan := `name: browser
graceful_stop: 2s
scenarios:
  - {flow: signup-password, executor: constant-arrival-rate, rate: 4, duration: 3s, max_in_flight: 20}
  - {flow: signin-password, executor: ramping-arrival-rate, start_rate: 2, stages: [{duration: 3s, target: 8}], max_in_flight: 20, setup: {users: 10}}
thresholds:
  - signup-password error_rate < 50%
`
	for _, run := range []struct{ name, threshold string }{{"load", ""}, {"load-failed", "  - signin-password flow p50 < 1us\n"}} {
		path := at(run.name + ".yaml")
		if err := os.WriteFile(path, []byte(plan+run.threshold), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := runCLI("load", "--plan", path, "--out", at(run.name+".json"), "--interval", "500ms", "--quiet")
		if want := map[bool]int{true: exitPassed, false: exitRegression}[run.threshold == ""]; exitCode(err) != want {
			t.Fatalf("load %s: want exit %d, got %v", run.name, want, err)
		}
	}
}

// headlessBrowser starts Chromium at exe, closed when the test ends.
func headlessBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	t.Cleanup(cancel)
	browser, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	return browser
}

// checkControlPage shows the checks can fail: a page with a script error
// and a request to the network is caught.
func checkControlPage(t *testing.T, browser context.Context, control string) {
	t.Helper()
	if err := os.WriteFile(control, []byte(`<!DOCTYPE html><title>control</title><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pageProblems(t, browser, control), "\n"); !strings.Contains(got, "console.error") || !strings.Contains(got, "request other than itself: http://127.0.0.1:9/x.png") {
		t.Errorf("the control page's console error and request went unnoticed: %q", got)
	}
}

// failedEntries is how many entries failConformance makes fail.
const failedEntries = 5

// failConformance writes the record at src with its first entries failed,
// as a target that broke them would have.
func failConformance(t *testing.T, src, dst string) {
	t.Helper()
	r := readRecord(t, src)
	r.RunID += "-failed"
	for i := range r.Conformance.Entries[:failedEntries] {
		e := &r.Conformance.Entries[i]
		e.Outcome = reports.OutcomeFailed
		e.Reason = fmt.Sprintf("suberror: want %q, got %q\n%s", "invalid_oob_value", "", strings.Repeat("a long explanation of what the answer held instead ", 8))
		// As the runner will set them (schema v1.2): links to the text
		// quoted, which must not be fetched.
		e.Sources = []reports.SourceRef{reports.NewSourceRef("", "native-auth-email-password-api", "Sign-up API reference / Success response", "continuation_token")}
	}
	r.Integrity = nil
	if err := reports.WriteFile(dst, r); err != nil {
		t.Fatal(err)
	}
}

// checkPage opens the report at path and checks it; shot is the path of
// its screenshots without extension.
func checkPage(t *testing.T, browser context.Context, path, shot string, rec *reports.Record, failed, skipped int) {
	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, time.Minute)
	defer cancelTime()
	page := (&url.URL{Scheme: "file", Path: path}).String()
	collect := watch(t, ctx, path)
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	screenshot(t, ctx, shot+".png")

	if rec.Load != nil {
		sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]float64](`Array.from(document.querySelectorAll("svg.chart")).map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height] })`))
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, s := range rec.Load.Scenarios {
			want += len(s.Steps) + 1
			if len(s.Intervals) > 0 {
				want += 3
			}
		}
		if len(sizes) != want {
			t.Errorf("charts: want %d (a timeline of 3 and a spectrum per step and flow, per scenario), got %d", want, len(sizes))
		}
		for i, wh := range sizes {
			if wh[0] < 100 || wh[1] < 50 {
				t.Errorf("chart %d: want a drawn size, got %v×%v px", i, wh[0], wh[1])
			}
		}
	}
	if rec.Conformance != nil {
		visible := func() int {
			n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("tr.entry")).filter(e => e.getClientRects().length > 0).length`))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		var wantSkipped int
		for _, e := range rec.Conformance.Entries {
			if e.Outcome == reports.OutcomeSkipped {
				wantSkipped++
			}
		}
		if skipped < 0 {
			skipped = wantSkipped
		}
		if links, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.src a[href*=":~:text="]').length`)); err != nil || links < failed {
			t.Errorf("source links: want at least %d, got %d (%v)", failed, links, err)
		}
		all := len(rec.Conformance.Entries)
		if got := visible(); got != all {
			t.Errorf("filter all: want %d entries shown, got %d", all, got)
		}
		for _, f := range []struct {
			label string
			want  int
		}{{"show-failed", failed}, {"show-skipped", skipped}, {"show-all", all}} {
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`label[for="`+f.label+`"]`))); err != nil {
				t.Fatal(err)
			}
			if got := visible(); got != f.want {
				t.Errorf("filter %s: want %d entries shown, got %d", f.label, f.want, got)
			}
			if f.label == "show-failed" {
				screenshot(t, ctx, shot+"-failed-only.png")
			}
		}
	}

	for _, p := range collect() {
		t.Error(p)
	}
}

// pageProblems opens the page at path and returns its console errors and
// requests other than for the page.
func pageProblems(t *testing.T, browser context.Context, path string) []string {
	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, time.Minute)
	defer cancelTime()
	collect := watch(t, ctx, path)
	if err := chromedp.Do(ctx, chromedp.Navigate((&url.URL{Scheme: "file", Path: path}).String())); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	time.Sleep(200 * time.Millisecond) // the image's request fails asynchronously
	return collect()
}

// watch listens to the tab of ctx for console errors, exceptions, error
// log entries and requests; collect returns what went wrong, including any
// request but the one for the page at path.
func watch(t *testing.T, ctx context.Context, path string) (collect func() []string) {
	page := (&url.URL{Scheme: "file", Path: path}).String()
	var mu sync.Mutex
	var problems, requests []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				problems = append(problems, fmt.Sprintf("console.%s", ev.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(problems)
		for _, u := range requests {
			if u != page {
				out = append(out, "the page made a request other than itself: "+u)
			}
		}
		if !slices.Contains(requests, page) {
			out = append(out, fmt.Sprintf("no request for the page itself: requests %q (is the network domain listened to?)", requests))
		}
		return out
	}
}

func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
