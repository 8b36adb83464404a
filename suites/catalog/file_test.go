package catalog

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

// catalogFile is the reviewed copy of what the code builds: a change to
// what the suites check shows in review as a diff of this file, as the
// Kubernetes conformance list does (test/conformance/testdata).
const catalogFile = "catalog.json"

var update = flag.Bool("update", false, "rewrite catalog.json from the code (go generate ./suites/catalog)")

//go:generate go test -run ^TestCatalogFileIsCurrent$ -update .

func TestCatalogFileIsCurrent(t *testing.T) {
	var built bytes.Buffer
	if err := WriteJSON(&built, All()); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(catalogFile, built.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	onDisk, err := os.ReadFile(catalogFile)
	if err != nil {
		t.Fatalf("read the checked-in catalog: %v (run go generate ./suites/catalog)", err)
	}
	if bytes.Equal(onDisk, built.Bytes()) {
		return
	}
	// Name the first line that differs, so the failure says what changed.
	want, got := strings.Split(string(onDisk), "\n"), strings.Split(built.String(), "\n")
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Fatalf("%s line %d: want %q, got %q from the code: the catalog changed; review the change and run go generate ./suites/catalog", catalogFile, i+1, w, g)
		}
	}
}
