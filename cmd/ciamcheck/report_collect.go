package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ciamcheck/ciamcheck/reports"
)

func newReportCollectCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "collect [LOG...] --dir DIR",
		Short: "Take back the run records that load --record-stdout framed into logs (kubectl logs of finished pods)",
		Long: `collect reads logs (files, or standard input when none is given or "-") and
writes every run record that "ciamcheck load --record-stdout" framed into them
to DIR, as segment-I-of-N.json (or record-K.json for a whole-plan run), byte
for byte as written, so "report merge" lists the same SHA-256 as each worker
sealed. Lines of other writers, and the prefixes of "kubectl logs --prefix",
are skipped. Every record is checked: its frame (length, SHA-256) and its
seal (a tampered record is refused).
Exit status: 0 every record was taken back; 2 a frame was cut, altered or
malformed, a record invalid or tampered, a segment found twice, or none found.`,
		Example: `  kubectl logs -l job-name=ciamcheck-load --tail=-1 --max-log-requests=16 --prefix | ciamcheck report collect --dir results
  ciamcheck report merge results/*.json --out merged.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReportCollect(cmd.InOrStdin(), cmd.OutOrStdout(), args, dir)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write the records to (required; created if missing)")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func runReportCollect(stdin io.Reader, stdout io.Writer, logs []string, dir string) error {
	fail := func(err error) error {
		return &exitError{code: exitBadRecord, err: fmt.Errorf("report collect: %w", err)}
	}
	if len(logs) == 0 {
		logs = []string{"-"}
	}
	var raws [][]byte
	var from []string
	for _, name := range logs {
		in := stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return fail(err)
			}
			defer f.Close()
			in = f
		}
		got, err := reports.ReadFramed(in)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", name, err))
		}
		for range got {
			from = append(from, name)
		}
		raws = append(raws, got...)
	}
	if len(raws) == 0 {
		return fail(errors.New("no framed run record in the logs (was load run with --record-stdout?)"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	written := map[string]string{}
	for k, raw := range raws {
		rec, err := reports.Unmarshal(raw)
		if err != nil {
			return fail(fmt.Errorf("record %d of %s: %w", k+1, from[k], err))
		}
		name := fmt.Sprintf("record-%d.json", k+1)
		if rec.Load != nil && rec.Load.Segment != "" {
			name = "segment-" + strings.ReplaceAll(rec.Load.Segment, "/", "-of-") + ".json"
		}
		if prev, dup := written[name]; dup {
			return fail(fmt.Errorf("record %d of %s ran segment %s, as one in %s did: a retried pod? keep one", k+1, from[k], rec.Load.Segment, prev))
		}
		written[name] = from[k]
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s\n", path)
	}
	return nil
}
