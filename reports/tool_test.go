package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestToolString(t *testing.T) {
	tests := []struct {
		tool Tool
		want string
	}{
		{Tool{Name: "ciamcheck", Version: "v0.9.0"}, "ciamcheck v0.9.0"},
		{Tool{Name: "ciamcheck", Version: "dev", Revision: "abc1234def5678", Dirty: true}, "ciamcheck dev (rev abc1234, dirty)"},
		{Tool{Name: "ciamcheck", Version: "v1", Revision: "abc"}, "ciamcheck v1 (rev abc)"},
		{Tool{Name: "ciamcheck", Version: "dev", Dirty: true}, "ciamcheck dev (dirty)"},
	}
	for _, tc := range tests {
		if got := tc.tool.String(); got != tc.want {
			t.Errorf("Tool%+v.String(): want %q, got %q", tc.tool, tc.want, got)
		}
	}
}

// Revision and dirty flag are members of their own in the record, and
// survive a write and read; a record of schema v1 without them still reads.
func TestToolProvenanceInRecord(t *testing.T) {
	t.Setenv(RecordKeyEnv, "")
	r := conformanceRecord()
	r.Tool.Revision, r.Tool.Dirty = "abc1234def5678", true
	r.Tool.RevisionTime = time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"revision": "abc1234def5678"`, `"dirty": true`, `"revision_time": "2026-11-29T17:00:00Z"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("record JSON: want %s in it", want)
		}
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tool != r.Tool {
		t.Errorf("tool after read: want %+v, got %+v", r.Tool, got.Tool)
	}

	old := []byte(`{"schema":"ciamcheck.run/v1","kind":"conformance","tool":{"name":"ciamcheck","version":"dev","go_version":"go1.26"},` +
		`"target":{"kind":"emulator","base_url":"http://127.0.0.1:1","tenant":"contoso","client_id":"c","profile_hash":"h"},` +
		`"started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:01:00Z","conformance":{"entries":[]}}`)
	rec, err := Read(bytes.NewReader(old))
	if err != nil {
		t.Fatalf("a v1 record without provenance: %v", err)
	}
	if rec.Tool.Revision != "" || rec.Tool.Dirty || rec.Tool.String() != "ciamcheck dev" {
		t.Errorf("v1 record tool: want plain \"ciamcheck dev\", got %+v", rec.Tool)
	}
	v, err := buildView(rec)
	if err != nil {
		t.Fatal(err)
	}
	if v.Tool != "ciamcheck dev" {
		t.Errorf("view tool: want %q, got %q", "ciamcheck dev", v.Tool)
	}
}
