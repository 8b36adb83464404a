package reports

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestFramedRecordsSurviveALog(t *testing.T) {
	a, b := []byte(strings.Repeat(`{"schema":"x"}`, 40)), []byte("{}")
	var log bytes.Buffer
	log.WriteString("load: plan x against http://127.0.0.1 (emulator)\n")
	if err := WriteFramed(&log, a); err != nil {
		t.Fatal(err)
	}
	if err := WriteFramed(&log, b); err != nil {
		t.Fatal(err)
	}
	// Another writer's lines in between, and kubectl logs --prefix.
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	var mixed strings.Builder
	for i, l := range lines {
		mixed.WriteString("[pod/ciamcheck-load-1-abc/load] " + l + "\n")
		if i == 3 {
			mixed.WriteString("time=... level=WARN msg=\"graceful stop expired\"\n")
		}
	}
	got, err := ReadFramed(strings.NewReader(mixed.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got[0], a) || !bytes.Equal(got[1], b) {
		t.Fatalf("want the 2 records back, got %d", len(got))
	}
}

func TestReadFramedRefusesDamage(t *testing.T) {
	var log bytes.Buffer
	if err := WriteFramed(&log, []byte(strings.Repeat("record bytes ", 30))); err != nil {
		t.Fatal(err)
	}
	full := log.String()
	lines := strings.Split(strings.TrimSuffix(full, "\n"), "\n")
	tests := []struct {
		name, log, want string
	}{
		{"cut", strings.Join(lines[:len(lines)-1], "\n"), "ends inside a record"},
		{"line lost", strings.Join(append(append([]string{}, lines[:2]...), lines[3:]...), "\n"), "length"},
		{"altered", strings.Replace(full, lines[2], FrameMarker+" "+strings.Repeat("A", len(lines[2])-len(FrameMarker)-1), 1), "sha256"},
		{"end without begin", lines[len(lines)-1], "end without begin"},
		{"data without begin", strings.Join(lines[1:], "\n"), "unexpected"},
		{"two begins", lines[0] + "\n" + full, "begins before"},
		{"bad begin", FrameMarker + " begin xyz 12\n", "begin line"},
	}
	for _, tt := range tests {
		_, err := ReadFramed(strings.NewReader(tt.log))
		if !errors.Is(err, ErrBadFrame) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: want ErrBadFrame saying %q, got %v", tt.name, tt.want, err)
		}
	}
}

func FuzzReadFramed(f *testing.F) {
	var log bytes.Buffer
	_ = WriteFramed(&log, []byte(`{"schema":"ciamcheck.run/v1.2"}`))
	f.Add(log.Bytes())
	f.Add([]byte(FrameMarker + " begin 00 5\n" + FrameMarker + " aGVsbG8=\n" + FrameMarker + " end 00\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		recs, err := ReadFramed(bytes.NewReader(in))
		if err != nil && !errors.Is(err, ErrBadFrame) && !strings.Contains(err.Error(), "read log") {
			t.Fatalf("error not ErrBadFrame: %v", err)
		}
		// Every record given back is what some frame announced: writing it
		// again and reading it back gives the same bytes.
		for _, r := range recs {
			var b bytes.Buffer
			if err := WriteFramed(&b, r); err != nil {
				t.Fatal(err)
			}
			again, err := ReadFramed(&b)
			if err != nil || len(again) != 1 || !bytes.Equal(again[0], r) {
				t.Fatalf("round trip of a read record failed: %v", err)
			}
		}
	})
}
