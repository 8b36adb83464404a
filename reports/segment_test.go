package reports

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseSegment(t *testing.T) {
	tests := []struct {
		in      string
		want    Segment
		wantErr string
	}{
		{"", Segment{}, ""},
		{"1/1", Segment{1, 1}, ""},
		{"2/4", Segment{2, 4}, ""},
		{"4/4", Segment{4, 4}, ""},
		{"0/4", Segment{}, "want 1 <= i <= n"},
		{"5/4", Segment{}, "want 1 <= i <= n"},
		{"1/0", Segment{}, "want 1 <= i <= n"},
		{"-1/4", Segment{}, "want 1 <= i <= n"},
		{"1/10001", Segment{}, "want 1 <= i <= n"},
		{"2", Segment{}, "want i/n"},
		{"a/b", Segment{}, "want i/n"},
		{"1/2/3", Segment{}, "want i/n"},
	}
	for _, tt := range tests {
		got, err := ParseSegment(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseSegment(%q): %v", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseSegment(%q): want error %q, got %v", tt.in, tt.wantErr, err)
		case got != tt.want:
			t.Errorf("ParseSegment(%q): want %+v, got %+v", tt.in, tt.want, got)
		case err == nil && got.String() != tt.in:
			t.Errorf("ParseSegment(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestSegmentSharesAddUp(t *testing.T) {
	for n := 1; n <= 9; n++ {
		for total := int64(0); total <= 40; total++ {
			var sum int64
			for i := 1; i <= n; i++ {
				s := Segment{Index: i, Count: n}
				owned := int64(0)
				for k := range total {
					if s.Owns(k) {
						owned++
					}
				}
				if owned != s.Share(total) {
					t.Fatalf("%s of %d: owns %d items, Share says %d", s, total, owned, s.Share(total))
				}
				sum += s.Share(total)
			}
			if sum != total {
				t.Fatalf("%d split %d ways: shares add up to %d", total, n, sum)
			}
		}
	}
}

func segmentParts(t *testing.T, segs ...string) []Part {
	t.Helper()
	var parts []Part
	for i, s := range segs {
		r := loadRecord(t, int64(i+1))
		r.Load.Segment = s
		parts = append(parts, part(t, "seg"+s+".json", r))
	}
	return parts
}

func TestMergeRefusesSegmentsThatAreNotOnePlan(t *testing.T) {
	tests := []struct {
		name    string
		segs    []string
		wantErr string
	}{
		{"missing", []string{"1/3", "3/3"}, "segments 2/3 missing"},
		{"other split", []string{"1/2", "2/3"}, "split 3 ways, earlier inputs 2 ways"},
		{"whole with segments", []string{"1/2", "", "2/2"}, "ran the whole plan"},
		{"twice", []string{"1/2", "1/2", "2/2"}, "ran segment 1/2"},
		{"bad", []string{"1/2", "3/2"}, "want 1 <= i <= n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Merge(segmentParts(t, tt.segs...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want error %q, got %v", tt.wantErr, err)
			}
		})
	}
	m, err := Merge(segmentParts(t, "2/3", "3/3", "1/3")...)
	if err != nil || m.Load.Partial != "" {
		t.Fatalf("all segments in any order: %v, partial %q", err, m.Load.Partial)
	}
}

func TestMergeAllowPartialStatesIt(t *testing.T) {
	m, err := MergeWith(MergeOptions{AllowPartial: true}, segmentParts(t, "1/4", "3/4")...)
	if err != nil {
		t.Fatal(err)
	}
	if want := "segments 2/4, 4/4 missing: the record holds 2 of 4 shares"; !strings.HasPrefix(m.Load.Partial, want) {
		t.Errorf("partial: want %q, got %q", want, m.Load.Partial)
	}
	// The statement survives writing and reading, and the report shows it.
	var b strings.Builder
	if err := RenderText(&b, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "PARTIAL") || !strings.Contains(b.String(), "2/4, 4/4 missing") {
		t.Errorf("text report does not state the partial merge:\n%s", b.String())
	}
	for name, render := range map[string]func(io.Writer, *Record) error{"markdown": RenderMarkdown, "html": RenderHTML} {
		var out strings.Builder
		if err := render(&out, m); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "PARTIAL: segments 2/4, 4/4 missing") {
			t.Errorf("%s report does not state the partial merge", name)
		}
	}
}

func TestMergeWarnsOfStartSkew(t *testing.T) {
	base := time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		skew time.Duration
		warn bool
	}{{0, false}, {900 * time.Millisecond, false}, {1500 * time.Millisecond, true}} {
		a, b := loadRecord(t, 1), loadRecord(t, 2)
		a.Load.Segment, b.Load.Segment = "1/2", "2/2"
		a.Load.BeganAt, b.Load.BeganAt = base, base.Add(tt.skew)
		m, err := Merge(part(t, "a.json", a), part(t, "b.json", b))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(m.Load.MergeWarnings) == 1 && strings.Contains(m.Load.MergeWarnings[0], "start skew: want <= 1s, got "+tt.skew.String()); got != tt.warn {
			t.Errorf("skew %s: want warning %v, got %q", tt.skew, tt.warn, m.Load.MergeWarnings)
		}
	}
}

func TestSegmentRecordThresholdsAreNotJudgedOnAShare(t *testing.T) {
	r := loadRecord(t, 1)
	r.Load.PlanThresholds = []string{"iterations >= 1000000"}
	if v := Judge(r); v.Status != StatusFailed {
		t.Fatalf("whole record with a failing threshold: want FAIL, got %s", v.Status)
	}
	r.Load.Segment = "2/4"
	v := Judge(r)
	if v.Status != StatusPassed || len(v.Thresholds) != 1 || v.Thresholds[0].Passed {
		t.Fatalf("segment record: want PASS with the threshold shown failing on the share, got %s %+v", v.Status, v.Thresholds)
	}
	var b strings.Builder
	if err := WriteVerdict(&b, v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "segment 2/4's share only") {
		t.Errorf("verdict does not say the thresholds are a share's:\n%s", b.String())
	}
	// A segment that aborted still fails: that is a fact of its run.
	r.Load.Aborted = "throttled"
	if v := Judge(r); v.Status != StatusFailed {
		t.Errorf("aborted segment: want FAIL, got %s", v.Status)
	}
}
