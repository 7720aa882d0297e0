package ice

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// Relay loopback through pion's TURN on loopback: the stream goes out to
// the relayed address and comes back as Data indications; nothing is lost
// on loopback, and the path says what was measured.
func TestRelayLoopbackPion(t *testing.T) {
	port := startTURN(t, "127.0.0.2")
	spec := probe.Spec{ID: "media-relay", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(ModeRelayLoopback)}
	res := runCheck(t, loopbackChecker(), spec, &probe.Config{TURN: creds(), Media: time.Second}, 5*time.Second)
	d := res.Details.ICE
	if res.Status != probe.StatusPass || d.Media == nil {
		t.Fatalf("status %s: %s; details %+v", res.Status, res.Error, d)
	}
	m := d.Media
	if m.Path != MediaPathRelayLoopback || m.Sent != 50 || m.LossPct > 2 || m.RTTMeanMS <= 0 || m.MOS < 4 || d.State != "connected" {
		t.Fatalf("media %+v state %s", m, d.State)
	}
	if len(d.LocalCandidates) != 1 || d.LocalCandidates[0].Type != "relay" || d.Selected != nil || d.SelectedVia != "" {
		t.Fatalf("candidates %+v selected %+v via %q: a loopback has no ICE pair", d.LocalCandidates, d.Selected, d.SelectedVia)
	}
}

func TestRelayLoopbackNeedsCredentials(t *testing.T) {
	port := startTURN(t, "127.0.0.2")
	spec := probe.Spec{ID: "media-relay", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(ModeRelayLoopback)}
	res := runCheck(t, loopbackChecker(), spec, &probe.Config{Media: time.Second}, 5*time.Second)
	if res.Status != probe.StatusSkip || res.Class != probe.ClassAuth || res.Details.Skipped == "" || !errors.Is(errorOf(res), ErrNoTURNCredentials) {
		t.Fatalf("status %s class %s: %s", res.Status, res.Class, res.Error)
	}
	if res.Details.SkipReason != probe.SkipNoCredentials {
		t.Errorf("skip reason %q, want %q (typed, so report and JUnit need not read the words)", res.Details.SkipReason, probe.SkipNoCredentials)
	}
	// A user name without its password is none here too (probe's TURN
	// check and OpenSelfRelay resolve the same way), and says so.
	res = runCheck(t, loopbackChecker(), spec, &probe.Config{TURN: probe.TURNCredentials{Username: testUser}, Media: time.Second}, 5*time.Second)
	if res.Status != probe.StatusSkip || res.Class != probe.ClassAuth || res.Details.SkipReason != probe.SkipNoCredentials ||
		!errors.Is(errorOf(res), ErrNoTURNCredentials) || !strings.Contains(res.Error, probe.ErrTURNNoPassword.Error()) {
		t.Fatalf("user without password: status %s class %s: %s", res.Status, res.Class, res.Error)
	}
	res = runCheck(t, loopbackChecker(), spec, &probe.Config{TURN: probe.TURNCredentials{Username: testUser, Password: "wrong"}, Media: time.Second}, 5*time.Second)
	if res.Status != probe.StatusFail || res.Class != probe.ClassAuth || res.Details.ICE.Media != nil {
		t.Fatalf("wrong password: status %s class %s: %s", res.Status, res.Class, res.Error)
	}
}

// Every packet the loopback reads carries its arrival time (the kernel's
// receive stamp on Linux), between its send and the end of its read.
func TestRelayLoopbackArrival(t *testing.T) {
	port := startTURN(t, "127.0.0.2")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sr, err := probe.OpenSelfRelay(ctx, probe.Spec{Host: "127.0.0.2", Port: port}, &probe.Config{TURN: creds()})
	if sr != nil {
		defer sr.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	l := &loopConn{sr: sr}
	buf := make([]byte, 1500)
	for i := range 3 {
		p := mediaPacket{seq: uint16(i), timestamp: uint32(160 * i), ssrc: 7, kind: kindProbe}
		sent := time.Now()
		if _, err := l.Write(p.marshal(make([]byte, 1500))); err != nil {
			t.Fatal(err)
		}
		_ = l.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := l.Read(buf)
		read := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		var got mediaPacket
		at, ok := l.arrival()
		if got.unmarshal(buf[:n]) != nil || got.seq != uint16(i) || got.kind != kindEcho || !ok ||
			at.Before(sent.Add(-time.Millisecond)) || at.After(read) {
			t.Fatalf("packet %d: %+v arrival %v ok %v (sent %v, read %v)", i, got, at, ok, sent, read)
		}
	}
}
