package reports

import (
	"bytes"
	"strings"
	"testing"
)

// strengthRecord is the conformance fixture with a strength on each entry:
// the passed one normative, the failed and the skipped one inferred.
func strengthRecord() *Record {
	r := conformanceRecord()
	for i, s := range []Strength{StrengthNormative, StrengthInferred, StrengthInferred} {
		r.Conformance.Entries[i].Strength = s
	}
	return r
}

// TestRenderStrength checks that every format shows the counts of each
// strength and marks the rows, so normative and inferred checks read apart.
func TestRenderStrength(t *testing.T) {
	render := map[string]func(*bytes.Buffer, *Record) error{
		"text":     func(b *bytes.Buffer, r *Record) error { return RenderText(b, r) },
		"markdown": func(b *bytes.Buffer, r *Record) error { return RenderMarkdown(b, r) },
		"html":     func(b *bytes.Buffer, r *Record) error { return RenderHTML(b, r) },
	}
	// Each row of the failed and skipped lists carries its mark, and the
	// HTML report's row of every entry.
	ids := strengthRecord().Conformance.Entries
	passed, failed, skipped := ids[0].ID, ids[1].ID, ids[2].ID
	rows := map[string][]string{
		"text":     {failed + " [inferred]  (", skipped + " [inferred]: "},
		"markdown": {"| `" + failed + "` [inferred] |", "| `" + skipped + "` [inferred] |"},
		"html": {"<code>" + failed + "</code></a> [inferred]", "<code>" + skipped + "</code></a> [inferred]",
			"<code>" + passed + "</code> [normative]"},
	}
	for name, fn := range render {
		var buf bytes.Buffer
		if err := fn(&buf, strengthRecord()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := buf.String()
		if !strings.Contains(out, "1 normative, 2 inferred") {
			t.Errorf("%s: no strength counts in\n%s", name, out)
		}
		for _, row := range rows[name] {
			if !strings.Contains(out, row) {
				t.Errorf("%s: no row %q in\n%s", name, row, out)
			}
		}
		// A record from before strengths shows no counts and no marks.
		buf.Reset()
		if err := fn(&buf, conformanceRecord()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out := buf.String(); strings.Contains(out, "[inferred]") || strings.Contains(out, "[normative]") || strings.Contains(out, " inferred (") {
			t.Errorf("%s: strength shown for a record without strengths:\n%s", name, out)
		}
	}
}

func TestJUnitStrength(t *testing.T) {
	doc := renderJUnitDoc(t, strengthRecord())
	props := map[string]string{}
	for _, p := range doc.Suites[0].Properties {
		props[p.Name] = p.Value
	}
	if props["entries_normative"] != "1" || props["entries_inferred"] != "2" {
		t.Errorf("suite properties: %v", props)
	}
	for i, want := range []string{"normative", "inferred", "inferred"} {
		c := doc.Suites[0].Cases[i]
		if len(c.Properties) != 1 || c.Properties[0].Name != "strength" || c.Properties[0].Value != want {
			t.Errorf("case %s properties %+v, want strength=%s", c.Name, c.Properties, want)
		}
	}
}

func TestValidateStrength(t *testing.T) {
	r := strengthRecord()
	r.Conformance.Entries[0].Strength = "probably"
	if err := Validate(r); err == nil || !strings.Contains(err.Error(), `strength "probably"`) {
		t.Errorf("Validate of an unknown strength: %v", err)
	}
}
