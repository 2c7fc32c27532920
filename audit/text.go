// Rendering reports for people and for programs.

package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
)

// Schema names the version of the JSON document [WriteJSON] writes. It
// changes only when a field is removed or changes meaning; fields may be
// added within a version.
const Schema = "notmod-audit/1"

// document is the JSON document of [WriteJSON].
type document struct {
	Schema  string    `json:"schema"`
	Reports []*Report `json:"reports"`
}

// WriteJSON writes the reports as one JSON document of the schema
// described in the package documentation.
func WriteJSON(w io.Writer, reports []*Report) error {
	if reports == nil {
		reports = []*Report{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(document{Schema: Schema, Reports: reports})
}

// TextOptions configures [WriteText]. The zero value writes plain text
// without the probes.
type TextOptions struct {
	// Color marks verdicts with ANSI colours, for a terminal.
	Color bool
	// Verbose shows, under each finding, the request and response heads
	// of the probes that showed it.
	Verbose bool
}

// groups are the verdicts in the order a report shows them, with their
// headings, labels and colours.
var groups = []struct {
	v              Verdict
	heading, label string
	color          string
}{
	{Must, "Violates a MUST", "MUST", "\x1b[1;31m"},
	{Should, "Against a SHOULD", "SHOULD", "\x1b[33m"},
	{OK, "Fine", "ok", "\x1b[32m"},
	{Info, "Informational", "info", "\x1b[36m"},
}

const (
	bold  = "\x1b[1m"
	reset = "\x1b[0m"
)

// WriteText writes the reports for people: for each URL its status and
// validators, the freshness caches would give it, then the findings
// grouped by verdict with their RFC sections, and the watch rounds.
func WriteText(w io.Writer, reports []*Report, o TextOptions) error {
	p := &printer{w: w, color: o.Color}
	for i, r := range reports {
		if i > 0 {
			p.line("")
		}
		p.report(r, o.Verbose)
	}
	return p.err
}

// printer writes lines and keeps the first error.
type printer struct {
	w     io.Writer
	color bool
	err   error
}

func (p *printer) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// paint wraps s in an ANSI colour when colours are on.
func (p *printer) paint(color, s string) string {
	if !p.color {
		return s
	}
	return color + s + reset
}

func (p *printer) report(r *Report, verbose bool) {
	p.line("%s", p.paint(bold, "== "+r.URL))
	if r.Error != "" {
		p.line("%s %s", p.paint(groups[0].color, "error:"), r.Error)
		return
	}
	head := []string{fmt.Sprintf("status %d", r.Status)}
	if r.ETag != "" {
		head = append(head, "ETag "+r.ETag)
	}
	if r.LastModified != "" {
		head = append(head, "Last-Modified "+r.LastModified)
	}
	p.line("%s", strings.Join(head, " - "))
	if fr := r.Freshness; fr != nil {
		p.line("freshness: shared cache %s, private cache %s", fr.Shared.short(), fr.Private.short())
	}
	for _, g := range groups {
		var in []Finding
		for _, f := range r.Findings {
			if f.Verdict == g.v {
				in = append(in, f)
			}
		}
		if len(in) == 0 {
			continue
		}
		p.line("")
		p.line("%s", p.paint(bold, fmt.Sprintf("%s (%d)", g.heading, len(in))))
		for _, f := range in {
			p.line("  %s %s (%s)", p.paint(g.color, fmt.Sprintf("%-6s", g.label)), f.ID, f.Section)
			p.line("         %s", f.Message)
			if len(f.Probes) > 0 {
				p.line("         probes: %s", strings.Join(f.Probes, ", "))
			}
			if verbose {
				for _, name := range f.Probes {
					if ex := r.Probe(name); ex != nil {
						p.exchange(ex)
					}
				}
			}
		}
	}
	if len(r.Watch) > 0 {
		p.line("")
		p.line("%s", p.paint(bold, "Watch"))
		p.table(r.Watch)
	}
	p.line("")
	p.line("%d must, %d should, %d ok, %d info", r.Counts.Must, r.Counts.Should, r.Counts.OK, r.Counts.Info)
}

// exchange writes one probe's heads, indented under a finding.
func (p *printer) exchange(ex *Exchange) {
	const in = "           "
	p.line("%s[%s]", in, ex.Name)
	p.line("%s> %s %s", in, ex.Request.Method, ex.Request.Target)
	p.fields(in+"> ", ex.Request.Header)
	if ex.Response == nil {
		p.line("%s! %s", in, ex.Error)
		return
	}
	p.line("%s< %s %d %s", in, ex.Response.Proto, ex.Response.Status, http.StatusText(ex.Response.Status))
	p.fields(in+"< ", ex.Response.Header)
	if ex.Response.ContentBytes > 0 {
		p.line("%s< [%d bytes of content]", in, ex.Response.ContentBytes)
	}
	if ex.Error != "" {
		p.line("%s! %s", in, ex.Error)
	}
}

// fields writes a header's fields in order of name.
func (p *printer) fields(prefix string, h http.Header) {
	for _, k := range sortedKeys(h) {
		for _, v := range h[k] {
			p.line("%s%s: %s", prefix, k, v)
		}
	}
}

// table writes the watch rounds.
func (p *printer) table(rounds []Round) {
	if p.err != nil {
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  probe\tafter\tstatus\tage\tevent\tcache-status")
	for _, rd := range rounds {
		age := "-"
		if rd.Age != nil {
			age = fmt.Sprint(*rd.Age)
		}
		fmt.Fprintf(tw, "  %s\t%d s\t%d\t%s\t%s\t%s\n", rd.Probe, rd.OffsetSeconds, rd.Status, age, rd.Event, orAbsent(rd.CacheStatus))
	}
	p.err = tw.Flush()
}

// short sums up a lifetime for the report's head.
func (l Lifetime) short() string {
	switch {
	case !l.Stores:
		return "does not store it (" + string(l.Source) + ")"
	case l.ValidateEveryUse:
		return "validates before every reuse (no-cache)"
	}
	return fmt.Sprintf("%d s (%s)", l.Seconds, l.Source)
}

// WriteSummary writes a table of the reports: one line per URL with its
// status, its counts by verdict, and "fail" when it violates a MUST or
// could not be audited.
func WriteSummary(w io.Writer, reports []*Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "URL\tSTATUS\tMUST\tSHOULD\tOK\tINFO\tRESULT")
	for _, r := range reports {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\terror\n", r.URL)
			continue
		}
		result := "pass"
		if r.Failed() {
			result = "fail"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", r.URL, r.Status, r.Counts.Must, r.Counts.Should, r.Counts.OK, r.Counts.Info, result)
	}
	return tw.Flush()
}
