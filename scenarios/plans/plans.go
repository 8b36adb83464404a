// Package plans embeds the example load plans, so `ciamcheck load` works
// with no plan file.
package plans

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Names lists the embedded plans ("baseline", "smoke", ...).
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Get returns the YAML of an embedded plan by name.
func Get(name string) ([]byte, error) {
	b, err := files.ReadFile(strings.TrimSuffix(name, ".yaml") + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no embedded plan %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}
