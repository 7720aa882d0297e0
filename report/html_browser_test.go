package report

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// TestHTMLInChromium loads the healthy, blocked-range and ICE-failed
// reports in headless Chromium (Debian's chromium): no console error (a
// CSP violation is one), no request but the page itself, the headline and
// the blocked sub-range in the DOM. The screenshots land in
// UCPROBE_ARTIFACTS when it is set (docs/ takes its picture from there).
func TestHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not under -short")
	}
	bin := probetest.NeedBinary(t, "chromium", "chromium")
	dir := t.TempDir()
	shots := os.Getenv("UCPROBE_ARTIFACTS")
	if shots == "" {
		shots = dir
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sample string
		sel    string // an element that must exist, and text it must hold
		text   string
	}{
		{"healthy", "#verdict", "OK"},
		{"blocked-range", "#portmap-media-range", "31000-33000 filtered (inbound)"},
		{"blocked-range", "#headline", "udp-port-range-blocked"},
		{"ice-failed", "#headline", "ice-failed"},
	}
	for name, r := range htmlSamples(t) {
		if err := os.WriteFile(filepath.Join(dir, name+".html"), renderHTML(t, r), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.sample+tt.sel, func(t *testing.T) {
			page := filepath.Join(dir, tt.sample+".html")
			b := openBrowser(t, bin)
			err := chromedp.Do(b.ctx, chromedp.Navigate((&url.URL{Scheme: "file", Path: page}).String()),
				chromedp.WaitReady(chromedp.CSS("body")))
			if err != nil {
				t.Fatal(err)
			}
			text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(tt.sel)))
			if err != nil {
				t.Fatalf("%s: %v", tt.sel, err)
			}
			png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, tt.text) {
				t.Errorf("%s holds %q, want %q", tt.sel, text, tt.text)
			}
			for _, e := range b.problems() {
				t.Errorf("browser: %s", e)
			}
			shot := filepath.Join(shots, "report-"+tt.sample+".png")
			if err := os.WriteFile(shot, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot %s (%d bytes)", shot, len(png))
		})
	}
}

type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
	page string
}

func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

func (b *browser) note(format string, args ...any) {
	b.mu.Lock()
	b.errs = append(b.errs, fmt.Sprintf(format, args...))
	b.mu.Unlock()
}

// openBrowser starts Chromium with no network of its own (the flags this
// machine needs: no background requests, no first-run, no sandbox as root)
// and records console errors, exceptions, log errors and every request
// that is not the file the test opens.
func openBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-sync", true),
		// Belt and braces: no name resolves, and anything not loopback
		// goes to a proxy that is not there.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"), chromedp.ProxyServer("127.0.0.1:9"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	b := &browser{ctx: ctx}
	// Open the tab first, so that the listener sees every event of the page.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("chromium (%s) did not start: %v", bin, err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				b.note("console %s: %v", e.Type, e.Args)
			}
		case *runtime.EventExceptionThrown:
			b.note("exception: %s", e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				b.note("log %s: %s", e.Entry.Level, e.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			if !strings.HasPrefix(e.Request.URL, "file://") {
				b.note("request to %s", e.Request.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, enable := range []func() error{
		func() error { _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); return err },
		func() error { _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); return err },
	} {
		if err := enable(); err != nil {
			t.Fatal(err)
		}
	}
	return b
}
