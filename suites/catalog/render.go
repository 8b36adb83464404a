package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/reports"
)

// ExpectSummary is the expected answer in one short phrase:
// "400 invalid_grant/password_too_weak", "200 redirect", "200 status=failed".
func ExpectSummary(e Entry) string {
	x := e.Expect
	var b strings.Builder
	if x.HTTPStatus != 0 {
		b.WriteString(strconv.Itoa(x.HTTPStatus))
	} else {
		b.WriteString("any")
	}
	switch {
	case x.Error != "":
		b.WriteString(" " + string(x.Error))
		if x.Suberror != "" {
			b.WriteString("/" + string(x.Suberror))
		}
		for _, alt := range x.AlsoAccept {
			b.WriteString(" |" + string(alt))
		}
	case e.Kind == KindRedirect:
		b.WriteString(" redirect")
	case e.Kind == KindSuccess:
		b.WriteString(" success")
	case x.PollStatus != "":
		b.WriteString(" status=" + string(x.PollStatus))
	case len(x.Headers) > 0:
		for _, h := range x.Headers {
			if h.Absent {
				b.WriteString(" no " + h.Name)
				if h.Prefix {
					b.WriteString("*")
				}
			} else {
				b.WriteString(" " + h.Name + ": " + h.Value)
			}
		}
	case len(x.AbsentErrorCodes) > 0:
		b.WriteString(" never error_codes " + ints(x.AbsentErrorCodes))
	}
	if x.ErrorCodesNormative {
		b.WriteString(" codes " + ints(x.ErrorCodes))
	}
	return b.String()
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func needsText(e Entry) string {
	if len(e.Needs) == 0 {
		return "-"
	}
	s := make([]string, len(e.Needs))
	for i, c := range e.Needs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func endpointText(ep nativeauth.Endpoint) string {
	if n := EndpointName(ep); n != "" {
		return n
	}
	return "-"
}

// Counts is how many entries fall under each endpoint short name ("-" for
// protocol-wide entries), in endpoint order.
type Counts struct {
	Total      int
	ByEndpoint []EndpointCount
}

// EndpointCount is the entry count of one endpoint.
type EndpointCount struct {
	Endpoint string `json:"endpoint"`
	Entries  int    `json:"entries"`
}

// Count tallies entries per endpoint, in the order of nativeauth.Endpoints,
// protocol-wide entries last; endpoints with no entry are left out.
func Count(entries []Entry) Counts {
	n := map[nativeauth.Endpoint]int{}
	for _, e := range entries {
		n[e.Endpoint]++
	}
	c := Counts{Total: len(entries)}
	for _, ep := range append(append([]nativeauth.Endpoint(nil), nativeauth.Endpoints...), "") {
		if n[ep] > 0 {
			c.ByEndpoint = append(c.ByEndpoint, EndpointCount{Endpoint: endpointText(ep), Entries: n[ep]})
		}
	}
	return c
}

// WriteTable writes one line per entry (ID, endpoint, expected answer,
// strength, needs) and a footer with the total and the count per endpoint.
func WriteTable(w io.Writer, entries []Entry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tENDPOINT\tEXPECT\tSTRENGTH\tNEEDS")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, endpointText(e.Endpoint), ExpectSummary(e), e.Normative.Basis, needsText(e))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write catalog table: %w", err)
	}
	return writeFooter(w, entries, false)
}

func writeFooter(w io.Writer, entries []Entry, markdown bool) error {
	c := Count(entries)
	var b strings.Builder
	inferred := 0
	for _, e := range entries {
		if e.Normative.Basis == reports.StrengthInferred {
			inferred++
		}
	}
	fmt.Fprintf(&b, "\n%d entries\n", c.Total)
	if markdown {
		b.WriteString("\n")
	}
	for _, ec := range c.ByEndpoint {
		if markdown {
			fmt.Fprintf(&b, "- %s: %d\n", ec.Endpoint, ec.Entries)
		} else {
			fmt.Fprintf(&b, "  %-22s %d\n", ec.Endpoint, ec.Entries)
		}
	}
	if markdown {
		fmt.Fprintf(&b, "\nStrength: %d normative, %d inferred\n", c.Total-inferred, inferred)
	} else {
		fmt.Fprintf(&b, "\nstrength: %d normative, %d inferred\n", c.Total-inferred, inferred)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write catalog footer: %w", err)
	}
	return nil
}

// WriteJSON writes the full entries as an indented JSON array ("[]" when
// there are none), the form an auditor keeps.
func WriteJSON(w io.Writer, entries []Entry) error {
	if entries == nil {
		entries = []Entry{}
	}
	// Written for people too: "<= 600" stays readable, not "\u003c= 600".
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(entries); err != nil {
		return fmt.Errorf("write catalog: %w", err)
	}
	return nil
}

// WriteMarkdown writes a Markdown table with the sources of each entry and
// the counts.
func WriteMarkdown(w io.Writer, entries []Entry) error {
	var b strings.Builder
	b.WriteString("| ID | Endpoint | Expect | Strength | Needs | Source |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, e := range entries {
		var src []string
		for _, s := range e.Source {
			src = append(src, string(s.Page)+" § "+s.Section)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", e.ID, mdEscape(endpointText(e.Endpoint)),
			mdEscape(ExpectSummary(e)), e.Normative.Basis, mdEscape(needsText(e)), mdEscape(strings.Join(src, "; ")))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write catalog markdown: %w", err)
	}
	return writeFooter(w, entries, true)
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
