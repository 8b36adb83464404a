package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// specDir finds shared/spec by walking up from the test's directory: the
// pages live next to the repository, not in it. CIAMCHECK_SPEC_DIR
// overrides the search.
func specDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("CIAMCHECK_SPEC_DIR"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		cand := filepath.Join(dir, "shared", "spec")
		if _, err := os.Stat(filepath.Join(cand, string(PagePassword)+".txt")); err == nil {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/spec not found above the test directory (set CIAMCHECK_SPEC_DIR); source sections not checked")
		}
		dir = parent
	}
}

func readPages(t *testing.T) map[Page]string {
	t.Helper()
	dir := specDir(t)
	pages := map[Page]string{}
	for _, p := range Pages {
		b, err := os.ReadFile(filepath.Join(dir, p.File()))
		if err != nil {
			t.Fatalf("page %s: %v", p, err)
		}
		text := string(b)
		if strings.HasSuffix(p.File(), ".md") {
			text = plainMarkdown(text)
		}
		pages[p] = text
	}
	return pages
}

// mdLevels are the heading levels of the Markdown pages' headings, by
// their text: "## X" is 1, "### X" 2, "#### X" 3 (the plain-text pages'
// levels, see headingLevel).
var mdLevels = map[string]int{}

// plainMarkdown renders a Markdown page as the plain-text pages read:
// headings without their '#' marks (their levels kept in mdLevels), table
// rows as their cells joined by a space, `code` and *emphasis* marks and
// backslash escapes dropped.
func plainMarkdown(md string) string {
	clean := strings.NewReplacer("`", "", "**", "", "*", "", `\_`, "_").Replace
	var b strings.Builder
	for _, l := range strings.Split(md, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "#"):
			n := len(t) - len(strings.TrimLeft(t, "#"))
			t = clean(strings.TrimSpace(t[n:]))
			if n >= 2 && !strings.HasPrefix(t, "[") {
				mdLevels[t] = n - 1
			}
		case strings.HasPrefix(t, "|"):
			var cells []string
			for _, c := range strings.Split(strings.Trim(t, "|"), "|") {
				cells = append(cells, clean(strings.TrimSpace(c)))
			}
			if strings.Trim(strings.Join(cells, ""), "- :") == "" {
				continue // the header separator row
			}
			t = strings.Join(cells, " ")
		default:
			t = clean(t)
		}
		b.WriteString(t)
		b.WriteString("\n")
	}
	return b.String()
}

// Heading levels of the pages' plain-text rendering: 1 for top sections,
// 2 for steps, 3 for the answer headings inside a step, 0 for other lines.
var (
	level1 = map[string]bool{
		"Continuation token": true, "Prerequisites": true, "Self-service password reset (SSPR)": true,
		"Submitting user attributes to endpoints": true, "Format of user attributes values": true,
		"Reference user attributes": true, "Sign-up error codes": true,
	}
	level3 = map[string]bool{
		"Success response": true, "Successful response": true, "Error response": true,
		"Response": true, "User attributes required": true,
	}
)

func headingLevel(line string) int {
	switch {
	case level1[line] || strings.HasSuffix(line, "API reference"):
		return 1
	case strings.HasPrefix(line, "Step ") && strings.Contains(line, ":"),
		line == "Submit user attributes", strings.HasSuffix(line, "flow protocol details"):
		return 2
	case level3[line]:
		return 3
	}
	return 0
}

// window bounds how far after a plain-line component its quote may be.
const window = 6000

type line struct {
	text       string
	start, end int
}

func splitLines(text string) []line {
	var out []line
	off := 0
	for _, l := range strings.SplitAfter(text, "\n") {
		out = append(out, line{text: strings.TrimSpace(l), start: off, end: off + len(l)})
		off += len(l)
	}
	return out
}

var errNotFound = errors.New("not found")

// locate checks that each heading of s.Section is a whole line of the page,
// in order, each inside the one before (before the next heading of the same
// or a higher level), and that s.Quote occurs inside the last one.
func locate(text string, s Source) error { return locateWith(text, s, headingLevel) }

// locateWith is locate with the page's heading levels.
func locateWith(text string, s Source, headingLevel func(string) int) error {
	lines := splitLines(text)
	pos, bound := 0, len(text)
	for _, comp := range strings.Split(s.Section, " / ") {
		idx := -1
		for i, l := range lines {
			if l.start >= pos && l.start < bound && l.text == comp {
				idx = i
				break
			}
		}
		if idx < 0 {
			return fmt.Errorf("heading %q: %w as a whole line inside the headings before it", comp, errNotFound)
		}
		pos = lines[idx].end
		lvl := headingLevel(comp)
		if lvl == 0 {
			bound = min(bound, pos+window)
			continue
		}
		for _, l := range lines[idx+1:] {
			if l.start >= bound {
				break
			}
			if hl := headingLevel(l.text); hl > 0 && hl <= lvl {
				bound = l.start
				break
			}
		}
	}
	if s.Quote != "" && !strings.Contains(text[pos:bound], s.Quote) {
		return fmt.Errorf("quote %q: %w under %q", s.Quote, errNotFound, s.Section)
	}
	return nil
}

func TestSourcesOccurInPages(t *testing.T) {
	pages := readPages(t)
	checked := 0
	for _, e := range All() {
		if len(e.Source) == 0 {
			t.Errorf("%s: no source", e.ID)
		}
		for _, s := range e.Source {
			text, ok := pages[s.Page]
			if !ok {
				t.Errorf("%s: unknown page %q", e.ID, s.Page)
				continue
			}
			if s.Section == "" || s.Quote == "" {
				t.Errorf("%s: source on %s needs a section and a quote", e.ID, s.Page)
				continue
			}
			levels := headingLevel
			if strings.HasSuffix(s.Page.File(), ".md") {
				levels = func(l string) int { return mdLevels[l] }
			}
			if err := locateWith(text, s, levels); err != nil {
				t.Errorf("%s: %s: %v", e.ID, s.Page, err)
			}
			checked++
		}
	}
	t.Logf("%d sources located in the pages", checked)
}

// TestLocate makes sure the section check can fail: a quote from the wrong
// step, a heading that is only part of a line, or headings out of order.
func TestLocate(t *testing.T) {
	page := strings.Join([]string{
		"Sign-up API reference",
		"Step 1: Start",
		"Success response",
		"continuation_token Continuation token.",
		"Error response",
		"user_already_exists User already exists.",
		"Step 2: Challenge",
		"Error response",
		"expired_token The continuation token is expired.",
		"Sign-in API reference",
		"Step 1: Initiate",
		"Error response",
		"user_not_found The username doesn't exist.",
	}, "\n")
	tests := []struct {
		name    string
		section string
		quote   string
		ok      bool
	}{
		{"right step", "Sign-up API reference / Step 1: Start / Error response", "user_already_exists", true},
		{"second step", "Sign-up API reference / Step 2: Challenge / Error response", "expired_token", true},
		{"quote of a later step", "Sign-up API reference / Step 1: Start / Error response", "expired_token", false},
		{"quote of the success part", "Sign-up API reference / Step 1: Start / Error response", "continuation_token", false},
		{"heading missing in its step", "Sign-in API reference / Step 1: Initiate / Success response", "", false},
		{"heading of another section", "Sign-up API reference / Step 1: Initiate", "", false},
		{"partial heading", "Sign-up API reference / Step 1", "", false},
		{"out of order", "Step 2: Challenge / Sign-up API reference", "", false},
		{"quote anywhere in a top section", "Sign-in API reference", "user_not_found", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := locate(page, Source{Section: tt.section, Quote: tt.quote})
			if (err == nil) != tt.ok {
				t.Errorf("locate(%q, %q) = %v, want ok=%v", tt.section, tt.quote, err, tt.ok)
			}
		})
	}
}

// TestLocateRealPages checks wrong citations against the real pages fail:
// the section check must tell steps and pages apart.
func TestLocateRealPages(t *testing.T) {
	pages := readPages(t)
	wrong := []Source{
		pw(pwSUToken+errResp, "invalid_scope One or more of the scoped included in the request are invalid."),
		pw(pwSUChallenge+errResp, "user_already_exists User already exists."),
		otp(otpSUStart+errResp, "invalid_grant The password that the app submits doesn't meet all the complexity requirements"),
		pw(pwSSPRChallenge+errResp, "invalid_oob_value The one-time passcode provided by the user is invalid."),
		pw(pwSUOOB+errResp, "credential_required Authentication is required for account creation"),
		otp(pwSSPRStart, "user_not_found"),
	}
	for _, s := range wrong {
		if err := locate(pages[s.Page], s); err == nil {
			t.Errorf("%s %q: quote %q located, want not found", s.Page, s.Section, s.Quote)
		}
	}
}
