package reports

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"time"
)

// RenderHTML writes r as one self-contained HTML page for an auditor: inline
// CSS, no script and no external asset (the only links are to anchors in
// the page), every value escaped by html/template. A conformance run lists
// its failed and skipped entries with their reasons first, then every entry
// with catalog ID, source, specs and its redacted HTTP evidence in a
// collapsible <details> (open for failures). A load run shows the gate's
// verdict and thresholds first, then per scenario and step the counts, the
// response- and service-time percentiles and the errors by status, error and
// suberror.
func RenderHTML(w io.Writer, r *Record) error { return renderHTML(w, r, nil) }

// RenderHTMLComparison writes r as RenderHTML does, with what changed since
// the previous run (c, from Compare) at the top of the page.
func RenderHTMLComparison(w io.Writer, r *Record, c Comparison) error { return renderHTML(w, r, &c) }

func renderHTML(w io.Writer, r *Record, c *Comparison) error {
	v, err := buildView(r)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, htmlPage{view: v, Cmp: c, Legend: latencyLegend}); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

type htmlPage struct {
	*view
	Cmp    *Comparison
	Legend string
}

func timeOf(t time.Time) string { return timeOrUnknown(t) }

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"us": us, "pct": pct, "passFail": passFail, "orNone": orNone, "orDash": orDash,
	"dur": roundDuration, "time": timeOf, "join": joinSemi,
	"changeGroup": func(title string, list []EntryChange) changeGroup { return changeGroup{title, list} },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ciamcheck {{.Kind}} run {{.Started}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#1b1f24}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;overflow-wrap:normal}
table.entries{table-layout:fixed}
table.entries col.outcome{width:6.5em}table.entries col.entry{width:34%}
table.load{table-layout:fixed}table.load col.step{width:24%}table.load col.errs{width:9em}
table.cmp{table-layout:fixed}table.cmp col.step{width:22%}table.cmp col.n{width:8.5em}table.cmp col.lat{width:12.5em}table.cmp col.er{width:11em}
table.load tr.svc td{color:#57606a;border-top-style:dashed}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:.5em;margin:.3em 0}
.src{color:#57606a;font-size:12px;margin-top:.2em}
.specs{margin:.2em 0;padding-left:1.2em}
.passed{color:#1a7f37;font-weight:600}.failed{color:#cf222e;font-weight:600}.skipped{color:#9a6700;font-weight:600}
.tampered{background:#cf222e;color:#fff;padding:1em;font-weight:700;font-size:1.2em}
.verdict{font-size:1.15em;padding:.5em .8em;border-left:.4em solid #1a7f37;background:#f6f8fa}
.verdict.bad{border-left-color:#cf222e}
.summary span{display:inline-block;margin-right:1.5em;font-size:1.1em}
details summary{cursor:pointer;color:#0969da}
a{color:#0969da}
.meta th{width:10em}
.legend{color:#57606a;font-size:12px;white-space:pre-line}
@media print{details>*{display:block}}
</style>
</head>
<body>
{{if .Tampered}}<p class="tampered">WARNING: this record does not match its integrity digest. It was modified after it was written; do not trust it.</p>
{{end}}<h1>ciamcheck {{.Kind}} run</h1>
{{with .NotJudged}}<p class="verdict bad">NOT JUDGED — {{.}}. Nothing below is a verdict on the target.</p>
{{end}}<table class="meta">
<tr><th>Target</th><td>{{.Target}}</td></tr>
<tr><th>Tool</th><td>{{.Tool}}</td></tr>
<tr><th>Profile hash</th><td><code>{{.ProfileHash}}</code></td></tr>
<tr><th>Started</th><td>{{.Started}}</td></tr>
<tr><th>Ended</th><td>{{.Ended}} ({{orNone .Elapsed}})</td></tr>
<tr><th>Integrity</th><td><code>{{.Integrity}}</code></td></tr>
</table>
{{with .Cmp}}{{template "comparison" .}}{{end}}
{{with .Conf}}{{template "conformance" .}}{{end}}
{{with .Load}}{{template "load" .}}<p class="legend">{{$.Legend}}</p>{{end}}
</body>
</html>

{{define "conformance"}}
<h2>Summary</h2>
{{if .LabelFilter}}<p>Label filter: <code>{{.LabelFilter}}</code></p>{{end}}{{if .Focus}}<p>Focus: <code>{{.Focus}}</code></p>{{end}}
<p class="summary"><span>{{.Total}} entries</span><span class="passed">{{.Passed}} passed</span><span class="failed">{{.Failed}} failed</span><span class="skipped">{{.Skipped}} skipped</span></p>
{{if .FailedEntries}}<h3>Failed</h3>
<table class="entries"><colgroup><col class="entry"><col></colgroup>
<tr><th>Catalog ID</th><th>Reason</th></tr>
{{range .FailedEntries}}<tr><td><a href="#{{.Anchor}}"><code>{{.ID}}</code></a></td><td><pre>{{.Reason}}</pre></td></tr>
{{end}}</table>{{end}}
{{if .SkippedEntries}}<h3>Skipped</h3>
<table class="entries"><colgroup><col class="entry"><col></colgroup>
<tr><th>Catalog ID</th><th>Reason</th></tr>
{{range .SkippedEntries}}<tr><td><a href="#{{.Anchor}}"><code>{{.ID}}</code></a></td><td>{{.Reason}}</td></tr>
{{end}}</table>{{end}}
<h2>Entries</h2>
<table class="entries">
<colgroup><col class="outcome"><col class="entry"><col></colgroup>
<tr><th>Outcome</th><th>Catalog ID and source</th><th>Reason, specs and evidence</th></tr>
{{range .Entries}}<tr id="{{.Anchor}}">
<td class="{{.Outcome}}">{{.Outcome}}</td>
<td><code>{{.ID}}</code><div class="src">{{orNone .Source}}</div></td>
<td>{{if .Reason}}<pre>{{.Reason}}</pre>{{end}}{{if .Specs}}<ul class="specs">{{range .Specs}}<li>{{.}}</li>{{end}}</ul>{{end}}{{if .Duration}}<div class="src">took {{dur .Duration}}</div>{{end}}{{if .Evidence}}
<details{{if eq .Outcome "failed"}} open{{end}}><summary>{{len .Evidence}} HTTP exchange(s)</summary>
{{range .Evidence}}<pre>{{.Method}} {{.Path}}{{range $k, $v := .Form}}
  {{$k}}={{$v}}{{end}}
→ {{.Status}} ({{dur .DurationNS}}){{range $k, $v := .Headers}}
  {{$k}}: {{$v}}{{end}}
{{.Body}}</pre>
{{end}}</details>{{end}}</td>
</tr>
{{end}}</table>
{{end}}

{{define "load"}}
<h2>Result</h2>
<p class="verdict{{if not .Passed}} bad{{end}}"><span class="{{if .Passed}}passed{{else}}failed{{end}}">{{.Result}}</span>{{with .Verdict.Reason}}: {{.}}{{end}}{{if .Aborted}} ({{.Aborted}}){{end}}</p>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}
{{if .Thresholds}}<table><tr><th>Result</th><th>Threshold</th><th>Actual</th></tr>
{{range .Thresholds}}<tr><td class="{{if .Passed}}passed{{else}}failed{{end}}">{{passFail .Passed}}</td><td><code>{{.Expr}}</code></td><td>{{.Actual}}</td></tr>
{{end}}</table>{{end}}
{{range .Scenarios}}
<h2>Scenario {{.Name}}</h2>
<p>Flow <code>{{.Flow}}</code>, executor <code>{{.Executor}}</code>, {{dur .Duration}}: {{.Iterations}} iterations{{if .Expected}} of {{.Expected}} expected{{end}}, <span{{if .Failed}} class="failed"{{end}}>{{.Failed}} failed</span>, <span{{if .Dropped}} class="failed"{{end}}>{{.Dropped}} dropped</span>, {{.Throttled}} throttled, {{.Unavailable}} unavailable.</p>
<table class="load"><colgroup><col class="step"><col><col><col class="errs"><col><col><col><col><col><col></colgroup>
<tr><th>Step</th><th class="num">Count</th><th class="num">Rate/s</th><th class="num">Errors</th><th>Latency</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th></tr>
{{range .Steps}}<tr><td rowspan="2"><code>{{.Step}}</code></td><td class="num" rowspan="2">{{.Count}}</td><td class="num" rowspan="2">{{printf "%.1f" .Rate}}</td><td class="num" rowspan="2">{{.Errors}} ({{pct .ErrRate}})</td>
<td>response</td>{{with .Response}}<td class="num">{{us .P50}}</td><td class="num">{{us .P90}}</td><td class="num">{{us .P99}}</td><td class="num">{{us .P999}}</td><td class="num">{{us .Max}}</td>{{end}}</tr>
<tr class="svc"><td>service</td>{{with .Service}}<td class="num">{{us .P50}}</td><td class="num">{{us .P90}}</td><td class="num">{{us .P99}}</td><td class="num">{{us .P999}}</td><td class="num">{{us .Max}}</td>{{end}}</tr>
{{end}}</table>
{{$errs := false}}{{range .Steps}}{{if .Outcomes}}{{$errs = true}}{{end}}{{end}}{{if $errs}}<h3>Errors and expected answers by step, status, error and suberror</h3>
<table><tr><th>Step</th><th>Status</th><th>Error</th><th>Suberror</th><th class="num">Count</th></tr>
{{range $st := .Steps}}{{range .Outcomes}}<tr><td><code>{{$st.Step}}</code></td><td>{{.StatusLabel}}{{with .Example}}<div class="src">e.g. <code>{{.}}</code></div>{{end}}</td><td><code>{{orDash .Error}}</code></td><td><code>{{orDash .Suberror}}</code></td><td class="num">{{.Count}}</td></tr>
{{end}}{{end}}</table>{{end}}
{{end}}
{{end}}

{{define "comparison"}}
<h2>Changes since the previous run</h2>
<table class="meta">
<tr><th>Previous run</th><td>{{time .Old.Started}}, {{.Old.Tool}}, {{.Old.Target}}{{if .Old.Digest}}<br><code>{{.Old.Digest}}</code>{{else}} (unsealed){{end}}</td></tr>
<tr><th>This run</th><td>{{time .New.Started}}, {{.New.Tool}}, {{.New.Target}}{{if .New.Digest}}<br><code>{{.New.Digest}}</code>{{else}} (unsealed){{end}}</td></tr>
</table>
{{if .Problem}}<p class="verdict bad">Cannot compare: {{.Problem}}</p>{{else}}
<p class="verdict{{if .Regressed}} bad{{end}}">{{if .Regressed}}<span class="failed">REGRESSED</span>{{else}}<span class="passed">No regression</span>{{end}}{{if eq .Kind "load"}} (tolerance: {{.Tolerance}}){{end}}</p>
{{template "changes" (changeGroup "Regressions" .Regressions)}}{{template "changes" (changeGroup "Fixed" .Fixed)}}{{template "changes" (changeGroup "Newly skipped" .NewlySkipped)}}{{template "changes" (changeGroup "No longer skipped" .NoLongerSkipped)}}{{template "changes" (changeGroup "Added entries" .Added)}}{{template "changes" (changeGroup "Removed entries" .Removed)}}
{{if and (eq .Kind "conformance") (not .Regressions) (not .Fixed) (not .NewlySkipped) (not .NoLongerSkipped) (not .Added) (not .Removed)}}<p>Every entry has the same outcome as in the previous run.</p>{{end}}
{{if eq .Kind "load"}}{{if .PlanChanged}}<p class="skipped">The load plans differ, so figures may not be comparable.</p>{{end}}
<table class="cmp"><colgroup><col class="step"><col class="n"><col class="lat"><col class="lat"><col class="er"><col></colgroup>
<tr><th>Scenario / step</th><th class="num">Count</th><th class="num">p50</th><th class="num">p99</th><th class="num">Error rate</th><th>Verdict</th></tr>
{{range .Steps}}<tr><td><code>{{.Scenario}}/{{.Step}}</code></td><td class="num">{{.OldCount}} → {{.NewCount}}</td><td class="num">{{us .OldP50}} → {{us .NewP50}}</td><td class="num">{{us .OldP99}} → {{us .NewP99}}</td><td class="num">{{pct .OldErrRate}} → {{pct .NewErrRate}}</td><td>{{if .Regressions}}<span class="failed">REGRESSED</span>: {{join .Regressions}}{{else}}ok{{end}}{{if .Unjudged}}<div class="src">{{join .Unjudged}}</div>{{end}}</td></tr>
{{end}}</table>
{{range .AddedSteps}}<p>Step only in this run: <code>{{.}}</code></p>{{end}}{{range .RemovedSteps}}<p>Step only in the previous run: <code>{{.}}</code></p>{{end}}{{end}}
{{end}}
{{end}}

{{define "changes"}}{{if .List}}<h3>{{.Title}} ({{len .List}})</h3>
<table class="entries"><colgroup><col class="entry"><col class="outcome"><col class="outcome"><col></colgroup>
<tr><th>Catalog ID</th><th>Was</th><th>Now</th><th>Reason</th></tr>
{{range .List}}<tr><td><code>{{.ID}}</code></td><td class="{{.Old}}">{{orDash (print .Old)}}</td><td class="{{.New}}">{{orDash (print .New)}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>{{end}}{{end}}
`))

type changeGroup struct {
	Title string
	List  []EntryChange
}
