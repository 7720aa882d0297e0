package report

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// BundleOptions say how a bundle is made.
type BundleOptions struct {
	// Redactor, when set, replaces private addresses, host names and user
	// names in everything the bundle holds.
	Redactor *Redactor
}

// WriteBundle writes one zip for sending a report out: report.json,
// report.txt, report.html and environment.json, all from the same
// (redacted, when asked) report, and a README.txt that says what it is.
func WriteBundle(w io.Writer, r *Report, opt BundleOptions) error {
	if opt.Redactor != nil {
		var err error
		if r, err = opt.Redactor.Redact(r); err != nil {
			return fmt.Errorf("redact: %w", err)
		}
	}
	z := zip.NewWriter(w)
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"README.txt", func(w io.Writer) error { return bundleReadme(w, r, opt.Redactor != nil) }},
		{"report.json", func(w io.Writer) error { return WriteJSON(w, r) }},
		{"report.txt", func(w io.Writer) error { return WriteText(w, r, TextOptions{Verbose: true}) }},
		{"report.html", func(w io.Writer) error { return WriteHTML(w, r) }},
		{"environment.json", func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(Sanitize(r).Environment)
		}},
	}
	for _, f := range files {
		fw, err := z.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: r.Started.UTC().Truncate(time.Second)})
		if err != nil {
			return err
		}
		if err := f.write(fw); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return z.Close()
}

func bundleReadme(w io.Writer, r *Report, redacted bool) error {
	how := "not redacted: it holds this site's addresses and names."
	if redacted {
		how = "redacted: private addresses, host names and user names are placeholders\n" +
			"(ip-..., host-..., user-...); the same value has the same placeholder in every file,\n" +
			"and in every bundle made with the same --redact-key, so two bundles still compare."
	}
	_, err := fmt.Fprintf(w, "ucprobe report bundle\nprofile %s, run %s, verdict %s\n\n"+
		"report.html      open in a browser (self-contained, fetches nothing)\n"+
		"report.txt       the text report with the environment\n"+
		"report.json      schema %s: 'ucprobe render report.json', 'ucprobe diff OLD NEW'\n"+
		"environment.json this client's interfaces, routes, VPN, NAT\n\n"+
		"This bundle is %s\nSecrets (TURN passwords, tokens) are never in a report.\n",
		r.Profile, r.Started.UTC().Format("2006-01-02 15:04:05 UTC"), r.Verdict, Schema, how)
	return err
}
