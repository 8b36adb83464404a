package reports

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 2.8, []string{"0.0", "0.5", "1.0", "1.5", "2.0", "2.5"}},
		{0, 25, []string{"0", "5", "10", "15", "20", "25"}},
		{0, 9.6, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
		{0, 1, []string{"0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"}},
		{0, 140, []string{"0", "20", "40", "60", "80", "100", "120", "140"}},
		{3, 3, []string{"3"}},
	} {
		var got []string
		for _, tk := range (niceTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ticks of [%v, %v]: want %q, got %q", tc.lo, tc.hi, tc.want, got)
		}
	}
}

// TestSpectrumSamples: the percentile plot runs from the lowest value at
// 0% to the maximum at 99.99%, rising.
func TestSpectrumSamples(t *testing.T) {
	h, err := DecodeHistogram(hist(t, 1000, 9000, 1000))
	if err != nil {
		t.Fatal(err)
	}
	xys := spectrum(h)
	if first, last := xys[0], xys[len(xys)-1]; first.X != 1 || last.X < 9999 || last.X > 10001 || last.Y != ms(h.Max()) || first.Y > ms(h.ValueAtQuantile(1)) {
		t.Errorf("spectrum from %+v to %+v: want x 1 → 10000, y min → max %v", first, last, ms(h.Max()))
	}
	for i := 1; i < len(xys); i++ {
		if xys[i].Y < xys[i-1].Y || xys[i].X <= xys[i-1].X {
			t.Fatalf("spectrum not rising at %d: %+v then %+v", i, xys[i-1], xys[i])
		}
	}
}

// TestChartsEscapeNames: scenario and step names come from the record, an
// untrusted file; in chart titles, legends and labels they stay text.
func TestChartsEscapeNames(t *testing.T) {
	r := loadRecord(t, 1)
	r.Load.Scenarios[0].Name = `x"><script>alert(1)</script>`
	r.Load.Scenarios[0].Steps[0].Step = `</svg><b onmouseover=alert(2)>`
	var buf bytes.Buffer
	if err := RenderHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	checkSelfContainedHTML(t, out)
	if strings.Contains(out, "<b onmouseover") || strings.Contains(out, `"><script`) || !strings.Contains(out, "&lt;/svg&gt;&lt;b onmouseover=alert(2)&gt;: latency by percentile") {
		t.Error("a name from the record is not escaped in the charts")
	}
	if n := strings.Count(out, "<svg class=\"chart\""); n != 6 || strings.Count(out, "</svg>") != 6 {
		t.Errorf("want 6 whole charts, got %d opened, %d closed", n, strings.Count(out, "</svg>"))
	}
}

// TestOlderRecordHasNoTimeline: a v1.1 record, without intervals, still
// renders, with its spectra and a note where the timeline would be.
func TestOlderRecordHasNoTimeline(t *testing.T) {
	r := loadRecord(t, 1)
	r.Schema = "ciamcheck.run/v1.1"
	r.Load.Scenarios[0].Intervals = nil
	back, _ := readBack(t, r)
	var buf bytes.Buffer
	if err := RenderHTML(&buf, back); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, `<svg class="chart"`); n != 3 || !strings.Contains(out, "no interval timeline") {
		t.Errorf("v1.1 record: want 3 spectra and a note, got %d charts", n)
	}
}
