package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestWriteReadRoundTrip(t *testing.T) {
	t.Setenv(RecordKeyEnv, "")
	for name, r := range map[string]*Record{"conformance": conformanceRecord(), "load": loadRecord(t, 1)} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, r); err != nil {
				t.Fatal(err)
			}
			if r.Integrity == nil || r.Integrity.Algorithm != AlgSHA256 || len(r.Integrity.Digest) != 64 {
				t.Fatalf("Write did not seal: %+v", r.Integrity)
			}
			got, err := Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(got); err != nil {
				t.Fatalf("Verify after round trip: %v", err)
			}
			a, _ := json.Marshal(r)
			b, _ := json.Marshal(got)
			if !bytes.Equal(a, b) {
				t.Fatalf("round trip changed the record:\n%s\n%s", a, b)
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "run.json")
	if err := WriteFile(path, conformanceRecord()); err != nil {
		t.Fatal(err)
	}
	bad := conformanceRecord()
	bad.Conformance.Entries[0].Evidence[0].Form["password"] = "hunter2"
	if err := WriteFile(path, bad); !errors.Is(err, ErrSecretInRecord) {
		t.Fatalf("want ErrSecretInRecord, got %v", err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatalf("the good record must survive a refused write: %v", err)
	}
	if got.Conformance.Entries[0].Evidence[0].Form["password"] != RedactedValue {
		t.Fatal("refused record reached the file")
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
}

func TestReadTampered(t *testing.T) {
	t.Setenv(RecordKeyEnv, "")
	b := mustMarshal(t, conformanceRecord())
	forged := bytes.Replace(b, []byte(`"outcome": "failed"`), []byte(`"outcome": "passed"`), 1)
	if bytes.Equal(forged, b) {
		t.Fatal("fixture has no failed entry to forge")
	}
	r, err := Unmarshal(forged)
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("want ErrTampered, got %v", err)
	}
	if r == nil || !strings.HasPrefix(IntegrityStatus(r, err), "TAMPERED") {
		t.Fatalf("tampered record must come back flagged, got %v %q", r, IntegrityStatus(r, err))
	}
	// Whitespace is not content: re-indenting keeps the digest valid.
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(compact.Bytes()); err != nil {
		t.Fatalf("compacted record: %v", err)
	}
}

func TestHMAC(t *testing.T) {
	t.Setenv(RecordKeyEnv, "k1")
	b := mustMarshal(t, conformanceRecord())
	r, err := Unmarshal(b)
	if err != nil || r.Integrity.Algorithm != AlgHMACSHA256 {
		t.Fatalf("HMAC round trip: %v %+v", err, r)
	}
	t.Setenv(RecordKeyEnv, "k2")
	if _, err := Unmarshal(b); !errors.Is(err, ErrTampered) {
		t.Fatalf("wrong key: want ErrTampered, got %v", err)
	}
	t.Setenv(RecordKeyEnv, "")
	r, err = Unmarshal(b)
	if err != nil {
		t.Fatalf("no key: the record reads, unverified: %v", err)
	}
	if !strings.Contains(IntegrityStatus(r, nil), "NOT VERIFIED") {
		t.Fatalf("status %q", IntegrityStatus(r, nil))
	}
	if err := Verify(r); !errors.Is(err, ErrNoRecordKey) {
		t.Fatalf("Verify without key: %v", err)
	}
}

func TestReadUnknownFieldsAndSchema(t *testing.T) {
	t.Setenv(RecordKeyEnv, "")
	b := mustMarshal(t, loadRecord(t, 1))
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	withField := func(k string, v any) []byte {
		m := make(map[string]any, len(generic)+1)
		for kk, vv := range generic {
			m[kk] = vv
		}
		m[k] = v
		out, _ := json.Marshal(m)
		return out
	}
	// A newer minor adds a member, and the writer sealed over it.
	newer := NewRecord(KindConformance, Tool{Name: "x"}, Target{})
	newer.Schema = "ciamcheck.run/v1.9"
	if err := Seal(newer); err != nil {
		t.Fatal(err)
	}
	nb, _ := json.Marshal(newer)
	var nm map[string]any
	_ = json.Unmarshal(nb, &nm)
	nm["annotations"] = map[string]any{"ticket": "CIAM-1"}
	delete(nm, "integrity")
	canonNew, _ := json.Marshal(nm)
	nm["integrity"] = map[string]any{"algorithm": "sha256", "digest": hexSHA(canonNew)}
	newerBytes, _ := json.Marshal(nm)

	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"newer minor with unknown member", newerBytes, ""},
		{"unknown member not covered by the digest", withField("extra", 1), "modified after it was sealed"},
		{"other major", withField("schema", "ciamcheck.run/v2"), "major version 2"},
		{"foreign schema", withField("schema", "k6.summary/v1"), "not a ciamcheck run record"},
		{"bad minor", withField("schema", "ciamcheck.run/v1.x"), "no valid minor"},
		{"no schema", []byte(`{"kind":"load"}`), "no schema member"},
		{"not an object", []byte(`[1,2]`), "not a JSON object"},
		{"trailing data", append(append([]byte{}, b...), []byte(`{}`)...), "after top-level value"},
		{"unknown kind", withField("kind", "chaos"), "kind \"chaos\""},
		{"empty", nil, "not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestReadSizeLimit(t *testing.T) {
	r := &sizedReader{n: MaxRecordSize + 10}
	if _, err := Read(r); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("want size error, got %v", err)
	}
}

// sizedReader yields n spaces without allocating them up front.
type sizedReader struct{ n int }

func (s *sizedReader) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, os.ErrClosed
	}
	k := min(len(p), s.n)
	for i := range p[:k] {
		p[i] = ' '
	}
	s.n -= k
	return k, nil
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Record)
		wantErr string
	}{
		{"conformance ok", func(*Record) {}, ""},
		{"bad outcome", func(r *Record) { r.Conformance.Entries[0].Outcome = "flaky" }, "is not passed, failed or skipped"},
		{"failed without reason", func(r *Record) { r.Conformance.Entries[1].Reason = "" }, "failed without a reason"},
		{"duplicate id", func(r *Record) { r.Conformance.Entries[1].ID = r.Conformance.Entries[0].ID }, "duplicate id"},
		{"empty id", func(r *Record) { r.Conformance.Entries[2].ID = "" }, "empty id"},
		{"ends before start", func(r *Record) { r.EndedAt = r.StartedAt.Add(-1) }, "before started_at"},
		{"no tool", func(r *Record) { r.Tool.Name = "" }, "tool.name"},
		{"both bodies", func(r *Record) { r.Load = &Load{} }, "has a load member"},
		{"no body", func(r *Record) { r.Conformance = nil }, "no conformance member"},
		{"negative duration", func(r *Record) { r.Conformance.Entries[0].Duration = -1 }, "negative duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := conformanceRecord()
			tc.mutate(r)
			checkErr(t, Validate(r), tc.wantErr)
		})
	}
	loadTests := []struct {
		name    string
		mutate  func(*Record)
		wantErr string
	}{
		{"load ok", func(*Record) {}, ""},
		{"outcomes do not sum", func(r *Record) { r.Load.Scenarios[0].Steps[0].Outcomes[0].Count++ }, "outcomes sum to 501, count is 500"},
		{"histogram count lies", func(r *Record) { r.Load.Scenarios[0].Steps[1].ServiceTime.Count = 10 }, "encoding holds 497 values, record says 10"},
		{"histogram garbage", func(r *Record) { r.Load.Scenarios[0].Steps[1].ResponseTime.Encoded = "!!!" }, "decode histogram"},
		{"more values than runs", func(r *Record) {
			r.Load.Scenarios[0].Steps[1].ServiceTime = hist(t, 1, 10, 600)
		}, "600 values for 497 runs"},
		{"failed > iterations", func(r *Record) { r.Load.Scenarios[0].Failed = 501 }, "501 failed of 500"},
		{"duplicate step", func(r *Record) { r.Load.Scenarios[0].Steps[1].Step = "signup.start" }, "duplicate step"},
		{"duplicate scenario", func(r *Record) { r.Load.Scenarios = append(r.Load.Scenarios, r.Load.Scenarios[0]) }, "duplicate name"},
		{"plan not JSON", func(r *Record) { r.Load.Plan = []byte("{") }, "plan is not JSON"},
		{"negative dropped", func(r *Record) { r.Load.Scenarios[0].Dropped = -1 }, "negative counter"},
		{"merged input without digest", func(r *Record) { r.Load.MergedFrom = []MergeInput{{Source: "a.json", SHA256: "abc"}} }, `merged_from[0] "a.json": sha256 "abc" is not 64 lowercase hex digits`},
		{"merged input without source", func(r *Record) {
			r.Load.MergedFrom = []MergeInput{{SHA256: strings.Repeat("ab", 32)}}
		}, "merged_from[0]: empty source"},
	}
	for _, tc := range loadTests {
		t.Run(tc.name, func(t *testing.T) {
			r := loadRecord(t, 1)
			tc.mutate(r)
			checkErr(t, Validate(r), tc.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want error containing %q, got %v", want, err)
	}
}

func TestHistogramCodec(t *testing.T) {
	h := hdrhistogram.New(1, 3_600_000_000, 3)
	for v := int64(1); v <= 1000; v++ {
		if err := h.RecordValue(v * 10); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	if enc.Count != 1000 || enc.Max < 9990 || enc.Max > 10010 || enc.P50 < 4990 || enc.P50 > 5010 || enc.P99 < 9890 || enc.P99 > 9910 {
		t.Fatalf("figures: %+v", enc)
	}
	dec, err := DecodeHistogram(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !dec.Equals(h) {
		t.Fatal("decoded histogram differs from the recorded one")
	}
	if _, err := EncodeHistogram(nil); err == nil {
		t.Fatal("nil histogram encoded")
	}
	empty, err := DecodeHistogram(Histogram{})
	if err != nil || empty.TotalCount() != 0 {
		t.Fatalf("empty histogram: %v", err)
	}
	if _, err := DecodeHistogram(Histogram{Count: 3}); err == nil {
		t.Fatal("missing encoding accepted")
	}
}

func FuzzRead(f *testing.F) {
	for _, r := range []*Record{conformanceRecord(), loadRecord(f, 1)} {
		b, err := Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schema":"ciamcheck.run/v1","kind":"load","tool":{"name":"x"},"started_at":"2025-01-01T00:00:00Z","load":{"scenarios":[{"name":"a","steps":[{"step":"s","count":0,"outcomes":[],"service_time":{"encoded":"HISTFAAAACB4nJNpmSzMwMDAzQABzFCaEUzOmTJZ","count":0}}]}]}}`))
	f.Add([]byte(`{"schema":"ciamcheck.run/v1.9","integrity":{"algorithm":"sha256","digest":"zz"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Unmarshal(b)
		if r == nil {
			if err == nil {
				t.Fatal("no record and no error")
			}
			return
		}
		if err != nil && !isSealError(err) {
			t.Fatalf("record returned with an error that is not about its seal: %v", err)
		}
		// Whatever Read accepts must be valid and renderable.
		if verr := Validate(r); verr != nil {
			t.Fatalf("Read accepted an invalid record: %v", verr)
		}
		for _, render := range []func(io.Writer, *Record) error{RenderText, RenderMarkdown, RenderHTML, RenderJUnit} {
			_ = render(io.Discard, r)
		}
	})
}

// FuzzDecodeHistogram: an encoded histogram from an untrusted record either
// decodes to the count it claims, and then encodes and decodes back to an
// equal histogram, or is refused with an error; it never panics.
func FuzzDecodeHistogram(f *testing.F) {
	for _, n := range []int64{0, 1, 500} {
		h := hist(f, 1000, 4000, n)
		if n == 0 {
			h = Histogram{}
		}
		f.Add(h.Encoded, h.Count)
	}
	good := hist(f, 1, 60_000_000, 1000)
	f.Add(good.Encoded[:len(good.Encoded)/2], good.Count)
	f.Add("HISTFAAAACB4nJNpmSzMwMDAzQABzFCaEUzOmTJZ", int64(0))
	f.Add("HISTFAAAAAB4nAMAAAAAAQ==", int64(1))
	f.Add("not base64 at all", int64(3))
	f.Fuzz(func(t *testing.T, encoded string, count int64) {
		h, err := DecodeHistogram(Histogram{Encoded: encoded, Count: count})
		if err != nil {
			if h != nil {
				t.Fatal("histogram returned with an error")
			}
			return
		}
		if h.TotalCount() != count {
			t.Fatalf("decoded %d values, record said %d", h.TotalCount(), count)
		}
		again, err := EncodeHistogram(h)
		if err != nil {
			t.Fatalf("a decoded histogram does not encode: %v", err)
		}
		back, err := DecodeHistogram(again)
		if err != nil {
			t.Fatalf("a re-encoded histogram does not decode: %v", err)
		}
		if !back.Equals(h) {
			t.Fatal("re-encoded histogram differs")
		}
	})
}

func TestDecodeHistogramGeometryLimit(t *testing.T) {
	// 60 bytes that would make the decoder allocate 47 MiB.
	wide := hdrhistogram.New(1, 1<<62, 5)
	if err := wide.RecordValue(5); err != nil {
		t.Fatal(err)
	}
	enc, err := EncodeHistogram(wide)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeHistogram(enc); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("wide geometry: %v", err)
	}
	// The geometries ciamcheck writes, and some wider, still decode; and
	// countsLen agrees with the library.
	for _, g := range []struct {
		lo, hi int64
		digits int
	}{{1, 60_000_000, 3}, {1, 3_600_000_000, 3}, {1, math.MaxInt64, 3}, {1, 3_600_000_000, 4}, {1, 3_600_000_000, 5}, {1000, 1 << 40, 2}, {1, 1 << 20, 1}, {3, 1 << 30, 1}, {1, 2, 3}} {
		h := hdrhistogram.New(g.lo, g.hi, g.digits)
		if err := h.RecordValue(g.lo * 7); err != nil {
			t.Fatal(err)
		}
		if got, want := countsLen(g.lo, g.hi, int32(g.digits)), int64(len(h.Export().Counts)); got != want {
			t.Errorf("countsLen(%d, %d, %d) = %d, library %d", g.lo, g.hi, g.digits, got, want)
		}
		enc, err := EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeHistogram(enc); err != nil {
			t.Errorf("geometry %+v: %v", g, err)
		}
	}
}
