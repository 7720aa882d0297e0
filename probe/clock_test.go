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
	for _, tc := range []struct {
		name        string
		left        time.Duration // until the check's deadline; 0: none
		requested   time.Duration
		want        time.Duration
		shrunk      bool
		skippedWord string
	}{
		{"fits", 10 * time.Second, 2 * time.Second, 2 * time.Second, false, ""},
		{"no deadline", 0, 2 * time.Second, 2 * time.Second, false, ""},
		{"shrinks", 3 * time.Second, 5 * time.Second, 2700 * time.Millisecond, true, ""},
		{"below a gradable window", 1200 * time.Millisecond, 5 * time.Second, 0, true, "less than the 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.left > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.left)
				defer cancel()
			}
			w, shrunk, skipped := MediaWindow(ctx, nil, tc.requested)
			if shrunk != tc.shrunk || (tc.skippedWord == "") != (skipped == "") || !strings.Contains(skipped, tc.skippedWord) {
				t.Fatalf("window %v shrunk %v skipped %q, want shrunk %v skipped ~%q", w, shrunk, skipped, tc.shrunk, tc.skippedWord)
			}
			// The deadline moves on while the test runs: allow 50 ms.
			if d := tc.want - w; d < 0 || d > 50*time.Millisecond {
				t.Errorf("window %v, want %v", w, tc.want)
			}
		})
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
