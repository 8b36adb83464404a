package reports

import (
	"fmt"
	"slices"
	"strings"
)

// EntryKinds are the columns of the conformance report's summary matrix,
// the catalog's kinds in its order; an entry of another kind goes under
// "other".
var EntryKinds = []string{"success", "redirect", "error", "status", "code", "protocol"}

// entryPlace is where an entry belongs in the report: its flow, endpoint
// and kind as the record gives them (schema v1.2), or, for an older
// record, as its catalog ID spells them ("signup.start.error.…": flow
// signup, endpoint signup.start, kind error; "protocol.…" and "codes.…"
// are the protocol and code kinds of no one endpoint).
func entryPlace(e EntryResult) (flow, endpoint, kind string) {
	if len(e.Flows) > 0 {
		flow = e.Flows[0]
	}
	endpoint, kind = e.Endpoint, e.EntryKind
	parts := strings.Split(e.ID, ".")
	if flow == "" {
		flow = parts[0]
	}
	if kind == "" {
		switch parts[0] {
		case "protocol":
			kind = "protocol"
		case "codes":
			kind = "code"
		default:
			for _, p := range parts[1:] {
				if slices.Contains(EntryKinds, p) {
					kind = p
					break
				}
			}
		}
	}
	if endpoint == "" {
		endpoint = "(any endpoint)"
		if len(parts) > 2 && parts[0] != "protocol" && parts[0] != "codes" {
			endpoint = parts[0] + "." + parts[1]
		}
	}
	if !slices.Contains(EntryKinds, kind) {
		kind = "other"
	}
	if flow == "" {
		flow = "(none)"
	}
	return flow, endpoint, kind
}

// tally counts outcomes.
type tally struct{ Passed, Failed, Skipped int }

func (t *tally) add(o Outcome) {
	switch o {
	case OutcomePassed:
		t.Passed++
	case OutcomeFailed:
		t.Failed++
	case OutcomeSkipped:
		t.Skipped++
	}
}

func (t tally) Total() int { return t.Passed + t.Failed + t.Skipped }

// Class is the colour of a summary cell: failed when any failed, skipped
// when some were skipped and none failed, passed when all passed, empty
// when the cell holds no entry.
func (t tally) Class() string {
	switch {
	case t.Failed > 0:
		return "cell-failed"
	case t.Skipped > 0:
		return "cell-skipped"
	case t.Passed > 0:
		return "cell-passed"
	}
	return "cell-none"
}

// matrixRow is one endpoint of the summary matrix.
type matrixRow struct {
	Endpoint, Anchor string
	Cells            []tally // one per confView.Kinds
}

// flowGroup is one flow of the table of contents, with its endpoints.
type flowGroup struct {
	Flow, Anchor string
	tally
	Endpoints []*endpointGroup
}

// endpointGroup is one endpoint within a flow: its entries, failed first.
type endpointGroup struct {
	Endpoint, Anchor string
	tally
	Entries []entryView
}

// groupEntries fills the summary matrix and the flow/endpoint groups of c
// from c.Entries, keeping the order in which flows and endpoints first
// appear (the catalog's order).
func groupEntries(c *confView) {
	c.Kinds = slices.Clone(EntryKinds)
	rows := map[string]*matrixRow{}
	flows := map[string]*flowGroup{}
	eps := map[[2]string]*endpointGroup{}
	for _, e := range c.Entries {
		if e.Kind == "other" && !slices.Contains(c.Kinds, "other") {
			c.Kinds = append(c.Kinds, "other")
		}
	}
	for _, e := range c.Entries {
		r := rows[e.Endpoint]
		if r == nil {
			r = &matrixRow{Endpoint: e.Endpoint, Anchor: fmt.Sprintf("endpoint-%d", len(rows)+1), Cells: make([]tally, len(c.Kinds))}
			rows[e.Endpoint] = r
			c.Matrix = append(c.Matrix, r)
		}
		r.Cells[slices.Index(c.Kinds, e.Kind)].add(e.Outcome)
		f := flows[e.Flow]
		if f == nil {
			f = &flowGroup{Flow: e.Flow, Anchor: fmt.Sprintf("flow-%d", len(flows)+1)}
			flows[e.Flow] = f
			c.Flows = append(c.Flows, f)
		}
		f.add(e.Outcome)
		g := eps[[2]string{e.Flow, e.Endpoint}]
		if g == nil {
			g = &endpointGroup{Endpoint: e.Endpoint, Anchor: fmt.Sprintf("%s-%d", f.Anchor, len(f.Endpoints)+1)}
			eps[[2]string{e.Flow, e.Endpoint}] = g
			f.Endpoints = append(f.Endpoints, g)
		}
		g.add(e.Outcome)
		g.Entries = append(g.Entries, e)
	}
	rank := map[Outcome]int{OutcomeFailed: 0, OutcomeSkipped: 1, OutcomePassed: 2}
	for _, f := range c.Flows {
		for _, g := range f.Endpoints {
			slices.SortStableFunc(g.Entries, func(a, b entryView) int { return rank[a.Outcome] - rank[b.Outcome] })
		}
	}
	// The matrix row links to the endpoint's first group in the entries.
	for _, r := range c.Matrix {
		for _, f := range c.Flows {
			if i := slices.IndexFunc(f.Endpoints, func(g *endpointGroup) bool { return g.Endpoint == r.Endpoint }); i >= 0 {
				r.Anchor = f.Endpoints[i].Anchor
				break
			}
		}
	}
}
