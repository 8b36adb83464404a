package reports

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
)

// RenderHTML writes r as one self-contained HTML page for an auditor: inline
// CSS, no script and no external asset, every value escaped by html/template.
// Conformance entries are a table with catalog ID, source, outcome and
// reason, each with its redacted HTTP evidence in a collapsible <details>.
func RenderHTML(w io.Writer, r *Record) error {
	v, err := buildView(r)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, v); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"us": us, "pct": pct, "passFail": passFail, "orNone": orNone,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ciamcheck {{.Kind}} run {{.Started}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#1b1f24}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5em;margin:.3em 0}
.passed{color:#1a7f37;font-weight:600}.failed{color:#cf222e;font-weight:600}.skipped{color:#9a6700;font-weight:600}
.tampered{background:#cf222e;color:#fff;padding:1em;font-weight:700;font-size:1.2em}
.summary span{display:inline-block;margin-right:1.5em;font-size:1.1em}
details summary{cursor:pointer;color:#0969da}
.meta th{width:10em}
</style>
</head>
<body>
{{if .Tampered}}<p class="tampered">WARNING: this record does not match its integrity digest. It was modified after it was written; do not trust it.</p>
{{end}}<h1>ciamcheck {{.Kind}} run</h1>
<table class="meta">
<tr><th>Target</th><td>{{.Target}}</td></tr>
<tr><th>Tool</th><td>{{.Tool}}</td></tr>
<tr><th>Profile hash</th><td><code>{{.ProfileHash}}</code></td></tr>
<tr><th>Started</th><td>{{.Started}}</td></tr>
<tr><th>Ended</th><td>{{.Ended}} ({{orNone .Elapsed}})</td></tr>
<tr><th>Integrity</th><td><code>{{.Integrity}}</code></td></tr>
</table>
{{with .Conf}}
<h2>Summary</h2>
{{if .LabelFilter}}<p>Label filter: <code>{{.LabelFilter}}</code></p>{{end}}
<p class="summary"><span>{{.Total}} entries</span><span class="passed">{{.Passed}} passed</span><span class="failed">{{.Failed}} failed</span><span class="skipped">{{.Skipped}} skipped</span></p>
<h2>Entries</h2>
<table>
<tr><th>Catalog ID</th><th>Source</th><th>Outcome</th><th>Reason and evidence</th></tr>
{{range .Entries}}<tr>
<td><code>{{.ID}}</code></td>
<td>{{.Source}}</td>
<td class="{{.Outcome}}">{{.Outcome}}</td>
<td>{{if .Reason}}<pre>{{.Reason}}</pre>{{end}}{{if .Specs}}<div>Specs: {{range $i, $s := .Specs}}{{if $i}}; {{end}}{{$s}}{{end}}</div>{{end}}{{if .Evidence}}
<details><summary>{{len .Evidence}} HTTP exchange(s)</summary>
{{range .Evidence}}<pre>{{.Method}} {{.Path}}{{range $k, $v := .Form}}
  {{$k}}={{$v}}{{end}}
→ {{.Status}} ({{.DurationNS}}){{range $k, $v := .Headers}}
  {{$k}}: {{$v}}{{end}}
{{.Body}}</pre>
{{end}}</details>{{end}}</td>
</tr>
{{end}}</table>
{{end}}
{{with .Load}}
{{range .Scenarios}}
<h2>Scenario {{.Name}}</h2>
<p>Flow <code>{{.Flow}}</code>, executor <code>{{.Executor}}</code>, {{.Duration}}: {{.Iterations}} iterations{{if .Expected}} of {{.Expected}} expected{{end}}, {{.Failed}} failed, {{.Dropped}} dropped, {{.Throttled}} throttled.</p>
<table>
<tr><th>Step</th><th>Count</th><th>Rate/s</th><th>Errors</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>
{{range .Steps}}<tr><td><code>{{.Step}}</code></td><td class="num">{{.Count}}</td><td class="num">{{printf "%.1f" .Rate}}</td><td class="num">{{.Errors}} ({{pct .ErrRate}})</td><td class="num">{{us .P50}}</td><td class="num">{{us .P90}}</td><td class="num">{{us .P99}}</td><td class="num">{{us .P999}}</td><td class="num">{{us .Max}}</td></tr>
{{end}}</table>
{{range $st := .Steps}}{{range .Outcomes}}<div><code>{{$st.Step}}</code>: {{.Count}} × {{.Label}}</div>
{{end}}{{end}}
{{end}}
<p>Latencies are response times, measured from the intended start.</p>
{{if .Thresholds}}<h2>Thresholds</h2>
<table><tr><th>Result</th><th>Threshold</th><th>Actual</th></tr>
{{range .Thresholds}}<tr><td class="{{if .Passed}}passed{{else}}failed{{end}}">{{passFail .Passed}}</td><td><code>{{.Expr}}</code></td><td>{{.Actual}}</td></tr>
{{end}}</table>{{end}}
{{if .Aborted}}<p class="failed">Aborted: {{.Aborted}}</p>{{end}}
<p>Result: <span class="{{if .Passed}}passed{{else}}failed{{end}}">{{passFail .Passed}}</span></p>
{{end}}
</body>
</html>
`))
