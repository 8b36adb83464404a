package reports

import (
	"bytes"
	"encoding/xml"
	"flag"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file (go test ./reports -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// sealed returns r sealed without a key, so the digest in goldens is stable.
func sealed(t *testing.T, r *Record) *Record {
	t.Helper()
	t.Setenv(RecordKeyEnv, "")
	if err := Seal(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRenderGolden(t *testing.T) {
	records := map[string]*Record{"conformance": sealed(t, conformanceRecord()), "load": sealed(t, loadRecord(t, 1))}
	renderers := map[string]func(io.Writer, *Record) error{"txt": RenderText, "md": RenderMarkdown}
	for rn, r := range records {
		for ext, render := range renderers {
			t.Run(rn+"."+ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := render(&buf, r); err != nil {
					t.Fatal(err)
				}
				golden(t, rn+"."+ext, buf.Bytes())
			})
		}
	}
}

func TestRenderFiguresComeFromHistograms(t *testing.T) {
	r := loadRecord(t, 1)
	// The precomputed figures are for readers that cannot decode; renderers
	// must not trust them.
	r.Load.Scenarios[0].Steps[0].ResponseTime.P99 = 1
	var buf bytes.Buffer
	if err := RenderText(&buf, r); err != nil {
		t.Fatal(err)
	}
	h, err := DecodeHistogram(loadRecord(t, 1).Load.Scenarios[0].Steps[0].ResponseTime)
	if err != nil {
		t.Fatal(err)
	}
	want := (durationUS(h.ValueAtQuantile(99))).String()
	if !strings.Contains(buf.String(), want) {
		t.Fatalf("p99 %s from the histogram not in:\n%s", want, buf.String())
	}
	for _, s := range []string{"signup.challenge  400             invalid_grant        invalid_oob_value  × 7", "signup.start      429             -                    -                  × 3", "signup.start      400 (expected)  attributes_required  -                  × 10", "signup.start    500    50.0  3 (0.60%)", "FAIL  signup error_rate < 1%  (actual 1.4% (7/500))", "result: FAIL (1 of 2 thresholds failed)", "dropped 2, throttled 3"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text lacks %q", s)
		}
	}
}

func TestRenderTamperedIsLoud(t *testing.T) {
	t.Setenv(RecordKeyEnv, "")
	b := mustMarshal(t, conformanceRecord())
	r, err := Unmarshal(bytes.Replace(b, []byte("needs the emulator"), []byte("needs an emulator"), 1))
	if err == nil {
		t.Fatal("forgery not detected")
	}
	for name, render := range map[string]func(io.Writer, *Record) error{"text": RenderText, "md": RenderMarkdown, "html": RenderHTML, "junit": RenderJUnit} {
		var buf bytes.Buffer
		if err := render(&buf, r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.ToUpper(buf.String()), "TAMPERED") && !strings.Contains(buf.String(), "does not match its integrity digest") {
			t.Errorf("%s rendering of a tampered record does not say so", name)
		}
	}
}

// htmlOut writes the HTML renderings of the fixtures to a folder, to look
// at them in a browser: go test ./reports -run TestRenderHTML -htmlout /tmp/r
var htmlOut = flag.String("htmlout", "", "write the fixture HTML reports to this folder")

// checkSelfContainedHTML fails when page could fetch anything or run
// script: no script, no external reference, every in-page link resolves.
func checkSelfContainedHTML(t *testing.T, page string, external ...string) {
	t.Helper()
	lower := strings.ToLower(page)
	for _, s := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "src=", "@import", "url(", "http-equiv", "javascript:"} {
		if strings.Contains(lower, s) {
			t.Errorf("HTML is not self-contained or not escaped: found %q", s)
		}
	}
	for _, m := range hrefRE.FindAllStringSubmatch(page, -1) {
		if slices.Contains(external, html.UnescapeString(m[1])) {
			continue
		}
		if !strings.HasPrefix(m[1], "#") {
			t.Errorf("HTML links outside the page: href=%q", m[1])
		} else if !strings.Contains(page, `id="`+m[1][1:]+`"`) {
			t.Errorf("in-page link %q has no target", m[1])
		}
	}
}

var hrefRE = regexp.MustCompile(`(?i)href\s*=\s*"([^"]*)"`)

func writeHTMLOut(t *testing.T, name, page string) {
	t.Helper()
	if *htmlOut == "" {
		return
	}
	if err := os.MkdirAll(*htmlOut, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*htmlOut, name), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRenderHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderHTML(&buf, sealed(t, conformanceRecord())); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	writeHTMLOut(t, "conformance.html", out)
	for _, s := range []string{
		"<details>", "signup.start.error.user_already_exists", "needs the emulator clock backdoor", `class="failed"`, "password=[redacted]",
		// The failure reason and the evidence body, both with markup in
		// them, shown as text.
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		`AADSTS500011 &amp; &lt;oops&gt;&lt;script&gt;alert(&#39;evidence&#39;)&lt;/script&gt;`,
		// Failed and skipped entries are listed first with their reasons
		// and link to their evidence.
		`<h3>Failed (1)</h3>`, `<h3>Skipped (1)</h3>`, `href="#entry-2"`, `id="entry-2"`,
		// The summary matrix: signup.start has one passed success and one
		// failed error, signup.challenge one skipped error.
		`<th><a href="#flow-1-1">signup.start</a></th><td class="cell-passed">1 passed</td><td class="cell-none">–</td><td class="cell-failed">1 failed</td>`,
		`<th><a href="#flow-1-2">signup.challenge</a></th><td class="cell-none">–</td><td class="cell-none">–</td><td class="cell-skipped">1 skipped</td>`,
		// The filter, the table of contents and the entries by endpoint,
		// failed first.
		`<input type="radio" name="show" id="show-failed" class="show">`, `<label for="show-failed">failed (1)</label>`,
		`<li><a href="#flow-1-1">signup.start</a> <span class="count">(2, <span class="failed">1 failed</span>)</span></li>`,
		`<tr id="entry-2" class="entry o-failed">`,
		// The source links to the section it quotes.
		`<a href="../shared/spec/native-auth-email-password-api.txt#:~:text=Sign%2Dup%20start" rel="noreferrer">native-auth-email-password-api § Sign-up API reference / Sign-up start</a>; signup-error-codes § 50181</div>`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
	if strings.Contains(out, "<details open") {
		t.Error("evidence is open; want it collapsed")
	}
	if i, j := strings.Index(out, `id="entry-2"`), strings.Index(out, `id="entry-1"`); i < 0 || j < i {
		t.Error("the failed entry of signup.start is not listed before the passed one")
	}
	checkSelfContainedHTML(t, out, conformanceRecord().Conformance.Entries[0].Sources[0].URL)

	buf.Reset()
	if err := RenderHTML(&buf, loadRecord(t, 1)); err != nil {
		t.Fatal(err)
	}
	out = buf.String()
	writeHTMLOut(t, "load.html", out)
	for _, s := range []string{"<code>signup.challenge</code>", "NOT SEALED", "<td>response</td>", "<td>service</td>",
		"<code>invalid_oob_value</code>", "<td>429</td>", "FAIL</span>: 1 of 2 thresholds failed", "<code>signup error_rate &lt; 1%</code>",
		`aria-label="signup: arrival rate: achieved and target"`, `aria-label="signup / signup.challenge: latency by percentile"`, ">99.99%<"} {
		if !strings.Contains(out, s) {
			t.Errorf("load HTML lacks %q", s)
		}
	}
	// Three timeline charts and a spectrum for the flow and each step.
	if n := strings.Count(out, `<svg class="chart"`); n != 6 {
		t.Errorf("load HTML: want 6 charts, got %d", n)
	}
	if strings.Contains(out, "<?xml") || strings.Contains(out, "Dashed: the previous run") {
		t.Error("load HTML: XML declaration inlined, or a previous run announced that is not there")
	}
	checkSelfContainedHTML(t, out)
}

func TestRenderHTMLComparison(t *testing.T) {
	t.Setenv(RecordKeyEnv, "")
	old, cur := sealed(t, conformanceRecord()), conformanceRecord()
	cur.Conformance.Entries[0].Outcome, cur.Conformance.Entries[0].Reason = OutcomeFailed, "missing suberror <b>"
	cur = sealed(t, cur)
	var buf bytes.Buffer
	if err := RenderHTMLComparison(&buf, cur, Compare(old, cur)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	writeHTMLOut(t, "conformance-compared.html", out)
	if strings.Contains(out, "TAMPERED") || !strings.Contains(out, cur.Integrity.Digest) {
		t.Error("comparison HTML does not show the new run as verified")
	}
	for _, s := range []string{"Changes since the previous run", "REGRESSED", "Regressions (1)", "missing suberror &lt;b&gt;", old.Integrity.Digest} {
		if !strings.Contains(out, s) {
			t.Errorf("comparison HTML lacks %q", s)
		}
	}
	checkSelfContainedHTML(t, out, cur.Conformance.Entries[0].Sources[0].URL)

	buf.Reset()
	slow, fast := loadRecord(t, 2), loadRecord(t, 1)
	c := Compare(fast, slow)
	if err := RenderHTMLWith(&buf, slow, HTMLOptions{Comparison: &c, Previous: fast}); err != nil {
		t.Fatal(err)
	}
	out = buf.String()
	writeHTMLOut(t, "load-compared.html", out)
	for _, s := range []string{"REGRESSED", "<code>signup/signup.start</code>", "p50 2.601ms → 5.211ms (&#43;100%; at 99% confidence at least &#43;95%, tolerance 10%)", "p99 3.087ms → 6.183ms", "tolerance: response-time p50/p99 &#43;10% (changes under 1ms ignored), error rate &#43;1 points, at 99% confidence"} {
		if !strings.Contains(out, s) {
			t.Errorf("load comparison HTML lacks %q", s)
		}
	}
	// The previous run is drawn on the same charts: its series are in
	// every chart's legend.
	for _, s := range []string{">previous response<", ">previous service<", ">previous achieved<", ">previous p99<", ">previous failed iterations<", "Dashed: the previous run"} {
		if !strings.Contains(out, s) {
			t.Errorf("load comparison HTML lacks %q", s)
		}
	}
	if n := strings.Count(out, `<svg class="chart"`); n != 6 {
		t.Errorf("load comparison HTML: want 6 charts, got %d", n)
	}
	checkSelfContainedHTML(t, out)
}

// renderJUnitDoc renders r as JUnit and reads the document back.
func renderJUnitDoc(t *testing.T, r *Record) junitSuites {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.String())
	}
	return doc
}

func TestRenderJUnit(t *testing.T) {
	doc := renderJUnitDoc(t, conformanceRecord())
	if doc.Tests != 3 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 3 {
		t.Fatalf("counts: %+v", doc)
	}
	cases := doc.Suites[0].Cases
	if cases[0].Failure != nil || cases[0].Skipped != nil || cases[0].Time != "0.120" {
		t.Errorf("passed case: %+v", cases[0])
	}
	if f := cases[1].Failure; f == nil || !strings.Contains(f.Message, "want 400, got 500 <script>") || !strings.Contains(cases[1].SystemOut, "-> 500") {
		t.Errorf("failed case: %+v", cases[1])
	}
	if s := cases[2].Skipped; s == nil || s.Message != "needs the emulator clock backdoor" {
		t.Errorf("skipped case: %+v", cases[2])
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct{ in, cell, code string }{
		{"a|b", `a\|b`, "`a\\|b`"},
		{"<b>x</b>", "&lt;b&gt;x&lt;/b&gt;", "`<b>x</b>`"},
		{"line1\nline2", "line1<br>line2", "`line1 line2`"},
		{"a`b", "a\\`b", "``a`b``"},
		{"*bold* _it_ [l](u)", `\*bold\* \_it\_ \[l\](u)`, "`*bold* _it_ [l](u)`"},
	}
	for _, tc := range tests {
		if got := mdCell(tc.in); got != tc.cell {
			t.Errorf("mdCell(%q) = %q, want %q", tc.in, got, tc.cell)
		}
		if got := code(tc.in); got != tc.code {
			t.Errorf("code(%q) = %q, want %q", tc.in, got, tc.code)
		}
	}
}

func TestTargetLineWithholdsCredentials(t *testing.T) {
	got := targetLine(Target{Kind: "tenant", BaseURL: "https://user:pa55@contoso.ciamlogin.com/path?sig=abc#f", Tenant: "contoso"})
	if strings.Contains(got, "pa55") || strings.Contains(got, "sig=abc") || !strings.Contains(got, "https://contoso.ciamlogin.com/path") {
		t.Fatalf("targetLine = %q", got)
	}
}
