package reports

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"time"
)

// RenderHTML writes r as one self-contained HTML page for an auditor: inline
// CSS and inline SVG charts, no external asset and no network (the only
// links are to anchors in the page and to the reference pages the entries
// quote), every value escaped by html/template. The one script-free
// control is the conformance filter, a CSS radio group.
//
// A conformance run opens with a summary matrix (endpoint × kind, cells
// coloured by the worst outcome, with counts), then the failed and skipped
// entries with their reasons, then every entry by flow and endpoint (failed
// first) behind a table of contents and a filter (all, failed, skipped):
// catalog ID, kind, the source linked to the section it quotes, specs and
// its redacted HTTP evidence, collapsed. A load run shows the gate's verdict
// and thresholds first, then per scenario its timeline (achieved against
// target rate, the flow's p50 and p99, errors, throttled and dropped per
// interval), each step's latency percentile spectrum (response and service
// time), and the tables of counts, percentiles and errors.
func RenderHTML(w io.Writer, r *Record) error { return RenderHTMLWith(w, r, HTMLOptions{}) }

// RenderHTMLComparison writes r as RenderHTML does, with what changed since
// the previous run (c, from Compare) at the top of the page.
func RenderHTMLComparison(w io.Writer, r *Record, c Comparison) error {
	return RenderHTMLWith(w, r, HTMLOptions{Comparison: &c})
}

// HTMLOptions are what RenderHTMLWith adds to the page of one record.
type HTMLOptions struct {
	// Comparison, from Compare, is shown at the top of the page.
	Comparison *Comparison
	// Previous is the record compared with: its load figures are drawn,
	// dashed, on the same axes as this run's.
	Previous *Record
}

// RenderHTMLWith writes r as RenderHTML does, with what opts adds.
func RenderHTMLWith(w io.Writer, r *Record, opts HTMLOptions) error {
	v, err := buildView(r)
	if err != nil {
		return err
	}
	if v.Load != nil {
		charts, err := buildCharts(r, opts.Previous)
		if err != nil {
			return fmt.Errorf("render html: %w", err)
		}
		for i := range v.Load.Scenarios {
			v.Load.Scenarios[i].Charts = &charts[i]
		}
	}
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, htmlPage{view: v, Cmp: opts.Comparison, Legend: latencyLegend, HasPrevious: opts.Previous != nil}); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

type htmlPage struct {
	*view
	Cmp         *Comparison
	Legend      string
	HasPrevious bool
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
.matrix{width:auto}.matrix td{text-align:center;min-width:6.5em;font-variant-numeric:tabular-nums}.matrix th a{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.cell-failed{background:#ffebe9;color:#a40e26;font-weight:600}.cell-skipped{background:#fff8c5;color:#7d4e00}.cell-passed{background:#dafbe1;color:#116329}.cell-none{background:#fff;color:#8c959f}
.matrix-legend{color:#57606a;font-size:12px}
input.show{position:absolute;opacity:0;pointer-events:none}
.filterbar{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #d0d7de;z-index:1}
.filterbar label{display:inline-block;cursor:pointer;border:1px solid #d0d7de;border-radius:2em;padding:.15em .9em;margin-right:.4em;user-select:none}
#show-all:checked~.filterbar label[for=show-all],#show-failed:checked~.filterbar label[for=show-failed],#show-skipped:checked~.filterbar label[for=show-skipped]{background:#0969da;border-color:#0969da;color:#fff}
input.show:focus-visible~.filterbar{outline:2px solid #0969da}
#show-failed:checked~.groups tr.entry:not(.o-failed),#show-skipped:checked~.groups tr.entry:not(.o-skipped){display:none}
#show-failed:checked~.groups section:not(.has-failed),#show-skipped:checked~.groups section:not(.has-skipped){display:none}
#show-failed:checked~.groups .empty-failed,#show-skipped:checked~.groups .empty-skipped{display:block}
.groups .empty-failed,.groups .empty-skipped{display:none;color:#57606a}
nav.toc{columns:3 16em;background:#f6f8fa;padding:.6em 1em;margin:.8em 0;font-size:13px}
nav.toc ul{margin:0;padding-left:1.1em}nav.toc>ul{padding-left:0;list-style:none}nav.toc>ul>li{break-inside:avoid;margin-bottom:.4em}
.count{color:#57606a;font-size:12px}.count .failed,.count .skipped{font-weight:600}
.kind{display:inline-block;font-size:11px;color:#57606a;border:1px solid #d0d7de;border-radius:.3em;padding:0 .35em;margin-left:.4em}
h4{font-size:1em;margin:1.2em 0 .3em}h4 code{font-size:13px}
figure{margin:.8em 0}figure.spectrum{display:inline-block;width:calc(50% - .6em);margin-right:.6em;vertical-align:top}
svg.chart{width:100%;height:auto;display:block}svg.chart text{font-family:"Liberation Sans",Arial,Helvetica,sans-serif!important}
.chartnote{color:#57606a;font-size:12px}
@media (max-width:900px){figure.spectrum{width:100%}}
@media print{details>*{display:block}input.show,.filterbar{display:none}}
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
{{with .StrengthLine}}<p class="summary">Strength: {{.}}</p>{{end}}
{{if .Matrix}}<table class="matrix" id="matrix">
<tr><th>Endpoint</th>{{range .Kinds}}<th>{{.}}</th>{{end}}</tr>
{{range .Matrix}}<tr><th><a href="#{{.Anchor}}">{{.Endpoint}}</a></th>{{range .Cells}}<td class="{{.Class}}">{{if .Total}}{{if .Failed}}{{.Failed}} failed{{if or .Passed .Skipped}}<br>{{end}}{{end}}{{if .Skipped}}{{.Skipped}} skipped{{if .Passed}}<br>{{end}}{{end}}{{if .Passed}}{{.Passed}} passed{{end}}{{else}}–{{end}}</td>{{end}}</tr>
{{end}}</table>
<p class="matrix-legend">Each cell counts the entries of one endpoint and kind, coloured by the worst outcome: red when any failed, yellow when some were skipped, green when all passed.</p>{{end}}
{{if .FailedEntries}}<h3>Failed ({{len .FailedEntries}})</h3>
<table class="entries"><colgroup><col class="entry"><col></colgroup>
<tr><th>Catalog ID</th><th>Reason</th></tr>
{{range .FailedEntries}}<tr><td><a href="#{{.Anchor}}"><code>{{.ID}}</code></a> {{.StrengthMark}}</td><td><pre>{{.Reason}}</pre></td></tr>
{{end}}</table>{{end}}
{{if .SkippedEntries}}<h3>Skipped ({{len .SkippedEntries}})</h3>
<table class="entries"><colgroup><col class="entry"><col></colgroup>
<tr><th>Catalog ID</th><th>Reason</th></tr>
{{range .SkippedEntries}}<tr><td><a href="#{{.Anchor}}"><code>{{.ID}}</code></a> {{.StrengthMark}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>{{end}}
<h2 id="entries">Entries by flow and endpoint</h2>
<input type="radio" name="show" id="show-all" class="show" checked>
<input type="radio" name="show" id="show-failed" class="show">
<input type="radio" name="show" id="show-skipped" class="show">
<div class="filterbar">Show: <label for="show-all">all ({{.Total}})</label><label for="show-failed">failed ({{.Failed}})</label><label for="show-skipped">skipped ({{.Skipped}})</label></div>
<nav class="toc" aria-label="Contents"><ul>
{{range .Flows}}<li><a href="#{{.Anchor}}"><strong>{{.Flow}}</strong></a> {{template "count" .}}<ul>
{{range .Endpoints}}<li><a href="#{{.Anchor}}">{{.Endpoint}}</a> {{template "count" .}}</li>
{{end}}</ul></li>
{{end}}</ul></nav>
<div class="groups">
<p class="empty-failed">{{if not .Failed}}No entry failed.{{end}}</p><p class="empty-skipped">{{if not .Skipped}}No entry was skipped.{{end}}</p>
{{range .Flows}}<section class="flow{{if .Failed}} has-failed{{end}}{{if .Skipped}} has-skipped{{end}}">
<h3 id="{{.Anchor}}">Flow {{.Flow}} {{template "count" .}}</h3>
{{range .Endpoints}}<section class="endpoint{{if .Failed}} has-failed{{end}}{{if .Skipped}} has-skipped{{end}}">
<h4 id="{{.Anchor}}"><code>{{.Endpoint}}</code> {{template "count" .}}</h4>
<table class="entries">
<colgroup><col class="outcome"><col class="entry"><col></colgroup>
{{range .Entries}}<tr id="{{.Anchor}}" class="entry o-{{.Outcome}}">
<td class="{{.Outcome}}">{{.Outcome}}</td>
<td><code>{{.ID}}</code> {{.StrengthMark}}<span class="kind">{{.Kind}}</span><div class="src">{{if .Sources}}{{range $i, $s := .Sources}}{{if $i}}; {{end}}{{if $s.URL}}<a href="{{$s.URL}}" rel="noreferrer">{{$s.Text}}</a>{{else}}{{$s.Text}}{{end}}{{end}}{{else}}{{orNone .Source}}{{end}}</div></td>
<td>{{if .Reason}}<pre>{{.Reason}}</pre>{{end}}{{if .Specs}}<ul class="specs">{{range .Specs}}<li>{{.}}</li>{{end}}</ul>{{end}}{{if .Duration}}<div class="src">took {{dur .Duration}}</div>{{end}}{{if .Evidence}}
<details><summary>{{len .Evidence}} HTTP exchange(s), redacted</summary>
{{range .Evidence}}<pre>{{.Method}} {{.Path}}{{range $k, $v := .Form}}
  {{$k}}={{$v}}{{end}}
→ {{.Status}} ({{dur .DurationNS}}){{range $k, $v := .Headers}}
  {{$k}}: {{$v}}{{end}}
{{.Body}}</pre>
{{end}}</details>{{end}}</td>
</tr>
{{end}}</table>
</section>
{{end}}</section>
{{end}}</div>
{{end}}

{{define "count"}}<span class="count">({{.Total}}{{if .Failed}}, <span class="failed">{{.Failed}} failed</span>{{end}}{{if .Skipped}}, <span class="skipped">{{.Skipped}} skipped</span>{{end}})</span>{{end}}

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
{{with .Charts}}<h3>Timeline</h3>
{{range .Timeline}}<figure class="timeline">{{.SVG}}</figure>
{{else}}<p class="chartnote">{{.NoTimeline}}</p>
{{end}}{{if .Merged}}<p class="chartnote">Merged from several records: where intervals of different records were combined, the percentiles shown are the highest of theirs, an upper bound of the merged run's.</p>
{{end}}<h3>Latency by percentile</h3>
{{range .Spectra}}<figure class="spectrum">{{.SVG}}</figure>{{end}}
<p class="chartnote">x: percentile on a 1/(1−p) scale, so each step right (90%, 99%, 99.9%, 99.99%) is ten times rarer; the last point is the maximum. Response time runs from the intended start; service time from when the request was sent.{{if .Overlay}} Dashed: the previous run.{{end}}</p>
{{end}}<table class="load"><colgroup><col class="step"><col><col><col class="errs"><col><col><col><col><col><col></colgroup>
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
