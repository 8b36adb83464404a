package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

func init() { subcommands = append(subcommands, newCatalogCmd) }

func newCatalogCmd() *cobra.Command {
	var format, endpoint, flow, label string
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List every documented behaviour the conformance suites check",
		Long: `catalog prints the catalog of behaviours documented by the native
authentication reference pages: for each entry its ID, endpoint, expected
status, error and suberror, and what the target must offer to reach it.
--format json prints the full entries (trigger, expected fields, page
sections, normative parts, notes on contradictions) for auditors.

The catalog is built into the binary; it does not contact any target.
Exit status: 0 listed; 2 a flag error (an unknown endpoint, flow, label or
format).`,
		Example: `  ciamcheck catalog
  ciamcheck catalog --endpoint signup.start
  ciamcheck catalog --endpoint /oauth2/v2.0/token --format json
  ciamcheck catalog --flow sspr --format markdown > sspr.md
  ciamcheck catalog --label needs:backdoor`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var f catalog.Filter
			var err error
			if endpoint != "" {
				if f.Endpoint, err = catalog.ParseEndpoint(endpoint); err != nil {
					return fmt.Errorf("--endpoint: %w", err)
				}
			}
			if flow != "" {
				if f.Flow, err = catalog.ParseFlow(flow); err != nil {
					return fmt.Errorf("--flow: %w", err)
				}
			}
			if label != "" {
				if f.Label, err = catalog.ParseLabel(label); err != nil {
					return fmt.Errorf("--label: %w", err)
				}
			}
			entries := catalog.Select(catalog.All(), f)
			out := cmd.OutOrStdout()
			switch format {
			case "table":
				return catalog.WriteTable(out, entries)
			case "json":
				return catalog.WriteJSON(out, entries)
			case "markdown", "md":
				return catalog.WriteMarkdown(out, entries)
			}
			return fmt.Errorf("--format %q: want table, json or markdown", format)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "table", "output format: table, json or markdown")
	fl.StringVar(&endpoint, "endpoint", "", "only entries of this endpoint (path or short name such as signup.start)")
	fl.StringVar(&flow, "flow", "", "only entries of this flow: signup, signin, sspr or protocol")
	fl.StringVar(&label, "label", "", "only entries carrying this label (see the labels in --format json)")
	return cmd
}
