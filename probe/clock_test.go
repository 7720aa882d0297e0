package probe

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestClockRTO(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		want    time.Duration
	}{
		{"nothing measured", nil, InitialRTO},
		{"a LAN: the floor", []time.Duration{ms, ms, 2 * ms}, MinRTO},
		// RFC 6298 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR = 3R.
		{"one sample", []time.Duration{200 * ms}, 600 * ms},
		// 2.3: RTTVAR = 3/4*100 + 1/4*|200-400| = 125, SRTT = 7/8*200 + 1/8*400 = 225.
		{"two samples", []time.Duration{200 * ms, 400 * ms}, 225*ms + 4*125*ms},
		{"a slow, jittery path: the ceiling", []time.Duration{900 * ms, 100 * ms, 1500 * ms}, MaxRTO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{}
			for _, s := range tc.samples {
				c.Observe("192.0.2.1", s)
			}
			if got := c.RTO(); got != tc.want {
				t.Errorf("RTO %v, want %v", got, tc.want)
			}
			if got, want := c.UDPSilence(), 7*tc.want; got != want {
				t.Errorf("UDP silence %v, want %v (3 sends, doubling)", got, want)
			}
			if got, want := c.TCPSilence(), SYNRetry+2*tc.want; got != want {
				t.Errorf("TCP silence %v, want %v", got, want)
			}
		})
	}
	var nilClock *Clock
	nilClock.Observe("192.0.2.1", time.Second) // no panic: a probe on its own has no clock
	if nilClock.RTO() != InitialRTO {
		t.Errorf("nil clock RTO %v, want %v", nilClock.RTO(), InitialRTO)
	}
}

func TestMediaWindow(t *testing.T) {
	slowPath := &Clock{}
	slowPath.Observe("192.0.2.1", 300*time.Millisecond) // grace 3 x SRTT = 900 ms
	for _, tc := range []struct {
		name        string
		left        time.Duration // until the check's deadline; 0: none
		clock       *Clock
		requested   time.Duration
		want        time.Duration
		shrunk      bool
		skippedWord string
	}{
		{"fits", 10 * time.Second, nil, 2 * time.Second, 2 * time.Second, false, ""},
		{"no deadline", 0, nil, 2 * time.Second, 2 * time.Second, false, ""},
		{"shrinks", 3 * time.Second, nil, 5 * time.Second, 2700 * time.Millisecond, true, ""},
		{"shrinks to 10 ms steps", 3*time.Second + 7*time.Millisecond, nil, 5 * time.Second, 2700 * time.Millisecond, true, ""},
		{"a slow path's longer grace", 3 * time.Second, slowPath, 5 * time.Second, 2 * time.Second, true, ""},
		{"below a gradable window", 1200 * time.Millisecond, nil, 5 * time.Second, 0, true, "less than the 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, shrunk, skipped := fitMediaWindow(tc.requested, tc.left, tc.left > 0, tc.clock)
			if w != tc.want || shrunk != tc.shrunk || (tc.skippedWord == "") != (skipped == "") || !strings.Contains(skipped, tc.skippedWord) {
				t.Errorf("window %v shrunk %v skipped %q, want %v shrunk %v skipped ~%q", w, shrunk, skipped, tc.want, tc.shrunk, tc.skippedWord)
			}
		})
	}
}

// MediaWindow reads the time left from ctx's deadline: the window it
// grants lies between the fits of the time left measured just before
// and just after the call, however long the call waited to run.
func TestMediaWindowFromContext(t *testing.T) {
	w, shrunk, skipped := MediaWindow(context.Background(), nil, 2*time.Second)
	if w != 2*time.Second || shrunk || skipped != "" {
		t.Errorf("no deadline: window %v shrunk %v skipped %q, want 2s as asked", w, shrunk, skipped)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	dl, _ := ctx.Deadline()
	before := time.Until(dl)
	w, shrunk, skipped = MediaWindow(ctx, nil, 5*time.Second)
	after := time.Until(dl)
	hi, _, hiSkipped := fitMediaWindow(5*time.Second, before, true, nil)
	lo, _, loSkipped := fitMediaWindow(5*time.Second, after, true, nil)
	if w < lo || w > hi || !shrunk || (skipped != "" && loSkipped == "") || (skipped == "" && hiSkipped != "") {
		t.Errorf("window %v shrunk %v skipped %q, want %v to %v, shrunk (%v to %v left)", w, shrunk, skipped, lo, hi, after, before)
	}
}

func TestMinDeadline(t *testing.T) {
	tcpOnly := []Spec{{Kind: KindTCP}}
	withTURN := []Spec{{Kind: KindTCP}, {Kind: KindTURN}}
	a, b := MinDeadline(tcpOnly, 100*time.Millisecond), MinDeadline(withTURN, 100*time.Millisecond)
	if a < MinTCPSilence || b <= a {
		t.Errorf("min deadline tcp %v, with turn %v: want tcp >= %v and turn more", a, b, MinTCPSilence)
	}
}

func TestClockPath(t *testing.T) {
	ms := time.Millisecond
	type s struct {
		dest string
		rtt  time.Duration
	}
	for _, tc := range []struct {
		name        string
		samples     []s
		rtt, jitter float64
	}{
		{"nothing", nil, 0, 0},
		// Two servers at different distances: their difference is no jitter.
		{"steady paths to two hosts", []s{{"a", 20 * ms}, {"b", 80 * ms}, {"a", 21 * ms}, {"b", 80 * ms}, {"a", 20 * ms}}, 21, 1},
		{"a jittery path", []s{{"a", 300 * ms}, {"a", 100 * ms}, {"a", 450 * ms}, {"a", 200 * ms}}, 250, 250},
		{"too few same-host pairs for jitter", []s{{"a", 100 * ms}, {"b", 400 * ms}, {"a", 300 * ms}}, 300, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{}
			for _, x := range tc.samples {
				c.Observe(x.dest, x.rtt)
			}
			p := c.Path()
			if p.Samples != len(tc.samples) || p.RTTMS != tc.rtt || p.JitterMS != tc.jitter {
				t.Errorf("path %+v, want %d samples, rtt %v, jitter %v", p, len(tc.samples), tc.rtt, tc.jitter)
			}
		})
	}
}
