package reports

import (
	"net/url"
	"path"
	"strings"
	"unicode/utf8"
)

// DefaultSpecBase is where SourceLink points when the caller names no
// other base: the reference pages as the repository keeps them
// (shared/spec/ beside the module, see DESIGN.md), relative to a report
// written at the top of the module. A runner that publishes reports
// elsewhere passes the pages' URL or a path relative to the report.
const DefaultSpecBase = "../shared/spec/"

// maxFragment bounds the text a link asks the browser to find: a quote's
// first words find it as well as the whole quote, and keep the link short.
const maxFragment = 80

// SourceLink is the link from a conformance entry to the text it quotes:
// base (DefaultSpecBase when empty) joined with the page's file name
// (".txt" added when page has no extension, as catalog pages are named),
// with a text fragment (#:~:text=, which browsers scroll to and highlight)
// of the quote's first words, or of the section's last heading when the
// entry quotes nothing. A section is the heading path "A / B / C". The
// pages do not name their public addresses, so the link is to the file.
func SourceLink(base, page, section, quote string) string {
	if page == "" {
		return ""
	}
	if base == "" {
		base = DefaultSpecBase
	}
	if path.Ext(page) == "" {
		page += ".txt"
	}
	link := strings.TrimSuffix(base, "/") + "/" + url.PathEscape(page)
	text := strings.Join(strings.Fields(quote), " ")
	if text == "" {
		heads := strings.Split(section, " / ")
		text = strings.TrimSpace(heads[len(heads)-1])
	}
	if text == "" {
		return link
	}
	return link + "#:~:text=" + fragmentEscape(firstWords(text, maxFragment))
}

// NewSourceRef is the SourceRef of a catalog source: "page § section",
// linked as SourceLink links it (base "" for DefaultSpecBase).
func NewSourceRef(base, page, section, quote string) SourceRef {
	text := page
	if section != "" {
		text += " § " + section
	}
	return SourceRef{Text: text, URL: SourceLink(base, page, section, quote)}
}

// firstWords cuts s at a word boundary to at most n bytes.
func firstWords(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n+1], ' ')
	if cut <= 0 {
		cut = n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	return strings.TrimSpace(s[:cut])
}

// fragmentEscape percent-encodes text for a text fragment, where '-', ','
// and '&' are syntax and must be encoded too.
func fragmentEscape(s string) string {
	e := url.PathEscape(s)
	return strings.NewReplacer("-", "%2D", ",", "%2C", "&", "%26").Replace(e)
}
