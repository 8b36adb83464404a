package reports

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestMarkdownStaysUnderGitHubLimit: 138 failing entries with long reasons,
// compared with a run where they all passed, still make a comment GitHub
// accepts, with the verdict, the regressions and the failures first and
// the link to the full report last.
func TestMarkdownStaysUnderGitHubLimit(t *testing.T) {
	old, cur := conformanceRecord(), conformanceRecord()
	old.Conformance.Entries, cur.Conformance.Entries = nil, nil
	for i := range 138 {
		id := fmt.Sprintf("signup.continue.error.case_%03d", i)
		old.Conformance.Entries = append(old.Conformance.Entries, EntryResult{ID: id, Outcome: OutcomePassed})
		cur.Conformance.Entries = append(cur.Conformance.Entries, EntryResult{ID: id, Source: "native-auth-email-password-api.txt § Sign-up continue", Outcome: OutcomeFailed,
			Sources: []SourceRef{NewSourceRef("", "native-auth-email-password-api", "Sign-up continue", "If the request is successful")},
			Reason:  fmt.Sprintf("entry %d: suberror: want \"invalid_oob_value\", got \"\"\n%s", i, strings.Repeat("evidence line | with *markup* <b> and text ", 60))})
	}
	c := Compare(old, cur)
	var buf bytes.Buffer
	if err := RenderMarkdownWith(&buf, cur, MarkdownOptions{Comparison: &c, FullReport: "https://ci.example.test/run/42/report.html"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := utf8.RuneCountInString(out); n >= 65_536 || len(out) > MarkdownLimit {
		t.Fatalf("markdown: want under 65,536 characters and %d bytes, got %d characters, %d bytes", MarkdownLimit, n, len(out))
	}
	if !strings.HasPrefix(out, "## ciamcheck conformance run: FAIL\n\n**138 entries: 0 passed, 138 failed, 0 skipped**") {
		t.Errorf("markdown does not open with the verdict:\n%.300s", out)
	}
	reg, failed := strings.Index(out, "#### Regressions (138)"), strings.Index(out, "### Failed")
	if reg < 0 || failed < 0 || failed < reg {
		t.Errorf("want regressions (at %d) then failures (at %d)", reg, failed)
	}
	if !strings.Contains(out, "more lines left out to keep this under GitHub's comment limit") {
		t.Error("markdown does not say what it left out")
	}
	if !strings.HasSuffix(out, "Full report: <https://ci.example.test/run/42/report.html>\n") {
		t.Errorf("markdown does not end with the full report's link:\n%s", out[max(0, len(out)-300):])
	}
	// Reasons are cut to a few lines and stay escaped.
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 2*maxMarkdownReason+400 {
			t.Fatalf("a line of %d bytes: reasons are not cut", len(line))
		}
	}
	if strings.Contains(out, "<b>") || !strings.Contains(out, "[native-auth-email-password-api § Sign-up continue](../shared/spec/native-auth-email-password-api.txt#:~:text=If%20the%20request%20is%20successful)") {
		t.Error("markdown: reason markup not escaped, or source not linked")
	}
}

func TestMarkdownFullReportPath(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderMarkdownWith(&buf, loadRecord(t, 1), MarkdownOptions{FullReport: "out/report (1).html"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "## ciamcheck load run: FAIL") || !strings.HasSuffix(out, "Full report: `out/report (1).html`\n") || strings.Contains(out, "left out") {
		t.Errorf("load markdown: want verdict first, the path last, nothing left out:\n%s", out)
	}
	if th, sc := strings.Index(out, "### Thresholds"), strings.Index(out, "### Scenario signup"); th < 0 || sc < th {
		t.Error("load markdown: thresholds do not come before the scenarios")
	}
}

// TestMarkdownSourceLinks: each source is linked, a link of another scheme
// is shown as text only.
func TestMarkdownSourceLinks(t *testing.T) {
	e := EntryResult{Source: "ignored", Sources: []SourceRef{
		NewSourceRef("https://example.test/spec/", "p", "A / B (c)", ""),
		{Text: "evil", URL: "javascript:alert(1)"},
		{Text: "plain"},
	}}
	if got, want := mdSource(e), "[p § A / B (c)](https://example.test/spec/p.txt#:~:text=B%20%28c%29); evil; plain"; got != want {
		t.Errorf("sources:\n want %s\n got  %s", want, got)
	}
	if got := mdSource(EntryResult{Source: "page § a|b"}); got != `page § a\|b` {
		t.Errorf("source text of an older record: got %s", got)
	}
}
