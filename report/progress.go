package report

import (
	"fmt"
	"io"
	"sync"

	"github.com/ucprobe/ucprobe/probe"
)

// Progress writes one line as each check starts and one as it ends, so a
// run of several seconds shows signs of life on a terminal. The CLI turns
// it on only when stderr is a terminal and --quiet is not given.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

// NewProgress writes progress lines to w, in colour when color is set.
func NewProgress(w io.Writer, color bool) *Progress { return &Progress{w: w, color: color} }

// Event is a probe.Config.Progress callback; safe for concurrent use.
func (p *Progress) Event(ev probe.ProgressEvent) {
	line := p.line(ev)
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, line)
}

func (p *Progress) line(ev probe.ProgressEvent) string {
	s := ev.Spec
	if !ev.Done {
		target := s.Target
		if s.Address != "" && s.Address != s.Host {
			target += " (" + s.Address + ")"
		}
		return fmt.Sprintf("  %s %-18s %s %s", p.paint(ansiDim, "..  "), s.ID, s.Kind, CleanText(target))
	}
	r := ev.Result
	mark := map[probe.Status]string{probe.StatusPass: p.paint(ansiGreen, "ok  "), probe.StatusWarn: p.paint(ansiYellow, "warn"),
		probe.StatusFail: p.paint(ansiRed, "FAIL"), probe.StatusSkip: p.paint(ansiDim, "skip")}[r.Status]
	out := fmt.Sprintf("  %s %-18s %s", mark, s.ID, fmtDuration(r.DurationMS))
	if r.Class != "" {
		out += " " + string(r.Class)
	}
	return out
}

func (p *Progress) paint(code, s string) string {
	if !p.color {
		return s
	}
	return code + s + ansiReset
}
