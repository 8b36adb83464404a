package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

func runCatalog(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"catalog"}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestCatalogTable(t *testing.T) {
	out, err := runCatalog(t)
	if err != nil {
		t.Fatal(err)
	}
	all := catalog.All()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "EXPECT") || !strings.Contains(lines[0], "NEEDS") {
		t.Errorf("header = %q", lines[0])
	}
	for i, e := range all {
		if f := strings.Fields(lines[i+1]); len(f) == 0 || f[0] != e.ID {
			t.Fatalf("line %d = %q, want entry %s", i+1, lines[i+1], e.ID)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("\n%d entries\n", len(all))) {
		t.Errorf("no count footer of %d entries in:\n%s", len(all), out[len(out)-400:])
	}
	for _, ec := range catalog.Count(all).ByEndpoint {
		if !strings.Contains(out, fmt.Sprintf("  %-22s %d\n", ec.Endpoint, ec.Entries)) {
			t.Errorf("footer lacks %s %d", ec.Endpoint, ec.Entries)
		}
	}
	row := lineOf(out, "signup.start.error.invalid_client.nativeauthapi_disabled ")
	for _, want := range []string{"signup.start", "400 invalid_client/nativeauthapi_disabled", "disabled-client"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
}

func lineOf(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestCatalogJSONRoundTrip(t *testing.T) {
	out, err := runCatalog(t, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got []catalog.Entry
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a JSON array of entries: %v", err)
	}
	all := catalog.All()
	if len(got) != len(all) {
		t.Fatalf("%d entries in JSON, want %d", len(got), len(all))
	}
	for i := range all {
		a, _ := json.Marshal(all[i])
		b, _ := json.Marshal(got[i])
		if !bytes.Equal(a, b) {
			t.Fatalf("entry %d differs after the round trip:\n%s\n%s", i, a, b)
		}
	}
	again, _ := runCatalog(t, "--format", "json")
	if again != out {
		t.Error("JSON output is not stable between runs")
	}
}

func TestCatalogFilters(t *testing.T) {
	tests := []struct {
		args []string
		want catalog.Filter
	}{
		{[]string{"--endpoint", "signup.start"}, catalog.Filter{Endpoint: "/signup/v1.0/start"}},
		{[]string{"--endpoint", "/oauth2/v2.0/token", "--flow", "signin"}, catalog.Filter{Endpoint: "/oauth2/v2.0/token", Flow: catalog.FlowSignIn}},
		{[]string{"--label", "needs:backdoor"}, catalog.Filter{Label: "needs:backdoor"}},
		{[]string{"--flow", "sspr", "--label", "kind:status"}, catalog.Filter{Flow: catalog.FlowSSPR, Label: "kind:status"}},
	}
	for _, tt := range tests {
		out, err := runCatalog(t, append(tt.args, "--format", "json")...)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		var got []catalog.Entry
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		want := catalog.Select(catalog.All(), tt.want)
		if len(want) == 0 || len(got) != len(want) {
			t.Errorf("%v: %d entries, want %d (non-zero)", tt.args, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i].ID != want[i].ID {
				t.Errorf("%v: entry %d = %s, want %s", tt.args, i, got[i].ID, want[i].ID)
			}
		}
	}
}

func TestCatalogMarkdown(t *testing.T) {
	out, err := runCatalog(t, "--format", "markdown", "--endpoint", "sspr.poll_completion")
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.Select(catalog.All(), catalog.Filter{Endpoint: "/resetpassword/v1.0/poll_completion"})
	if !strings.HasPrefix(out, "| ID | Endpoint | Expect | Strength | Needs | Source |\n| --- |") {
		t.Errorf("no Markdown header:\n%s", out)
	}
	for _, e := range want {
		if !strings.Contains(out, "| `"+e.ID+"` |") {
			t.Errorf("no row for %s", e.ID)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("%d entries", len(want))) || !strings.Contains(out, fmt.Sprintf("- sspr.poll_completion: %d", len(want))) {
		t.Errorf("no counts:\n%s", out)
	}
}

func TestCatalogBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--format", "yaml"}, "--format"},
		{[]string{"--endpoint", "signup.nowhere"}, "--endpoint"},
		{[]string{"--flow", "login"}, "--flow"},
		{[]string{"--label", "flow:login"}, "--label"},
		{[]string{"extra"}, "unknown command"},
	}
	for _, tt := range tests {
		_, err := runCatalog(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want one naming %s", tt.args, err, tt.want)
		}
	}
}

func TestCatalogHelp(t *testing.T) {
	out, err := runCatalog(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Examples:", "ciamcheck catalog --endpoint signup.start", "--format", "--flow", "--label"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
