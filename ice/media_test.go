package ice

import (
	"context"
	"errors"
	"math"
	"os"
	"sync"
	"testing"
	"time"
)

func TestEModel(t *testing.T) {
	for _, tc := range []struct {
		rtt, jitter, loss float64
		wantR, wantMOS    float64
		grade             string
	}{
		{0, 0, 0, 92.95, 4.40, "excellent"},
		{100, 30, 1, 84.56, 4.18, "good"},      // Microsoft's limits: EL 170 -> Id (170-120)/10
		{40, 0, 5, 76.17, 3.87, "good"},        // the vnet impairment test's figures
		{300, 50, 3, 54.06, 2.79, "degraded"},  // EL 410
		{150, 20, 0, 85.2, 4.204, "excellent"}, // EL 200
		{80, 10, 2, 83.44, 4.15, "good"},       // Imagicle's 80 ms: EL 110 < 160
		{1000, 200, 50, -99.05, 1, "degraded"}, // R below 0
	} {
		r := RFactor(G711, tc.rtt, tc.jitter, tc.loss)
		if math.Abs(r-tc.wantR) > 0.05 {
			t.Errorf("R(rtt %v, jitter %v, loss %v) = %.2f, want %.2f", tc.rtt, tc.jitter, tc.loss, r, tc.wantR)
		}
		m := MOS(r)
		if math.Abs(m-tc.wantMOS) > 0.006 {
			t.Errorf("MOS(%.2f) = %.3f, want %.2f", r, m, tc.wantMOS)
		}
		if g := Grade(m); g != tc.grade {
			t.Errorf("grade(%.2f) = %s, want %s", m, g, tc.grade)
		}
	}
	for _, tc := range []struct {
		mos   float64
		grade string
	}{{4.21, "excellent"}, {4.2, "good"}, {3.7, "good"}, {3.69, "fair"}, {3.1, "fair"}, {3.09, "degraded"}} {
		if g := Grade(tc.mos); g != tc.grade {
			t.Errorf("Grade(%v) = %s, want %s", tc.mos, g, tc.grade)
		}
	}
	if MOS(120) != 4.5 {
		t.Error("MOS above R 100")
	}
}

func TestJitterEstimator(t *testing.T) {
	// Transit alternating 0 and 20 ms: |D| is 20 every packet, so J
	// converges to 20 (RFC 3550: J += (|D| - J)/16).
	var j jitter
	for i := range 400 {
		j.add(float64(i%2) * 20)
	}
	if math.Abs(j.j-20) > 0.01 {
		t.Errorf("jitter %.3f, want 20", j.j)
	}
	var c jitter
	for range 100 {
		c.add(42)
	}
	if c.j != 0 {
		t.Errorf("constant transit: jitter %v", c.j)
	}
}

// fakeLink is an in-memory path whose echo comes back after a scripted
// delay per packet (sequence number) and drops scripted packets: the
// measurement's numbers are checked against exactly what was injected.
type fakeLink struct {
	delay func(seq uint16) time.Duration
	drop  func(seq uint16) bool
	mu    sync.Mutex
	rx    uint32
	echo  uint32
	in    chan []byte
	dl    time.Time
	kick  chan struct{} // a new deadline wakes a blocked Read
	wg    sync.WaitGroup
}

func newFakeLink(delay func(uint16) time.Duration, drop func(uint16) bool) *fakeLink {
	return &fakeLink{delay: delay, drop: drop, in: make(chan []byte, 1024), kick: make(chan struct{}, 1)}
}

func (f *fakeLink) Write(b []byte) (int, error) {
	var p mediaPacket
	if err := p.unmarshal(b); err != nil {
		return 0, err
	}
	if f.drop(p.seq) {
		return len(b), nil
	}
	f.mu.Lock()
	f.rx++
	p.kind, p.peerRx, p.peerSeq = kindEcho, f.rx, f.echo
	f.echo++
	f.mu.Unlock()
	out := p.marshal(make([]byte, 1500))
	f.wg.Add(1)
	time.AfterFunc(f.delay(p.seq), func() { defer f.wg.Done(); f.in <- out })
	return len(b), nil
}

func (f *fakeLink) Read(b []byte) (int, error) {
	for {
		f.mu.Lock()
		dl := f.dl
		f.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			tm := time.NewTimer(time.Until(dl))
			defer tm.Stop()
			timeout = tm.C
		}
		select {
		case p := <-f.in:
			return copy(b, p), nil
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		case <-f.kick:
		}
	}
}

func (f *fakeLink) SetReadDeadline(t time.Time) error {
	f.mu.Lock()
	f.dl = t
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
	return nil
}

func TestMeasureInjected(t *testing.T) {
	// Every other echo 30 ms late on top of 10 ms; every 10th packet lost.
	link := newFakeLink(
		func(seq uint16) time.Duration { return 10*time.Millisecond + time.Duration(seq%2)*30*time.Millisecond },
		func(seq uint16) bool { return seq%10 == 9 },
	)
	st := measure(context.Background(), link, 2*time.Second, G711)
	link.wg.Wait()
	if st.Sent < 99 || st.Sent > 101 {
		t.Fatalf("sent %d in 2 s", st.Sent)
	}
	if math.Abs(st.LossPct-10) > 1 {
		t.Errorf("loss %.2f %%, want 10", st.LossPct)
	}
	if math.Abs(st.LossUpPct-10) > 1 || st.LossDownPct != 0 {
		t.Errorf("loss up %.2f down %.2f, want 10 and 0", st.LossUpPct, st.LossDownPct)
	}
	// RTT alternates 10 and 40 ms (+ timer slack); the lost packets are
	// all odd (slow) ones: mean (50 x 10 + 40 x 40)/90 = 23.3, p95 40.
	if st.RTTMeanMS < 23 || st.RTTMeanMS > 27 || st.RTTP95MS < 40 || st.RTTP95MS > 45 || st.RTTMinMS < 10 {
		t.Errorf("RTT mean %.2f p95 %.2f min %.2f, want 25 / 40 / >= 10", st.RTTMeanMS, st.RTTP95MS, st.RTTMinMS)
	}
	// |D| is 30 ms between neighbours except across a lost packet
	// (then both neighbours are fast: D 0): J about 27 ms.
	if st.JitterMS < 22 || st.JitterMS > 32 {
		t.Errorf("jitter %.2f ms, want about 27", st.JitterMS)
	}
	// A 40 ms echo is overtaken by the next packet's 10 ms one.
	if st.Reordered < 30 {
		t.Errorf("reordered %d: a 10 ms echo sent 20 ms after a 40 ms one arrives first", st.Reordered)
	}
	want := MOS(RFactor(G711, st.RTTMeanMS, st.JitterMS, st.LossPct))
	if math.Abs(st.MOS-want) > 0.01 {
		t.Errorf("MOS %.2f, E-model %.2f", st.MOS, want)
	}
	t.Logf("%+v", *st)
}

func TestMeasureCutShort(t *testing.T) {
	link := newFakeLink(func(uint16) time.Duration { return time.Millisecond }, func(uint16) bool { return false })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	st := measure(ctx, link, 10*time.Second, G711)
	link.wg.Wait()
	if !st.CutShort || time.Since(start) > time.Second {
		t.Errorf("cut short %v after %v", st.CutShort, time.Since(start))
	}
	if st.Sent < 10 || st.Sent > 20 || st.LossPct > 10 {
		t.Errorf("what was measured before the end is kept: %+v", *st)
	}
}

func TestPacketRoundTrip(t *testing.T) {
	p := mediaPacket{seq: 513, timestamp: 160 * 513, ssrc: 7, kind: kindProbe, sentNS: 123456789, peerRx: 5, peerSeq: 4, peerJitUS: 1500}
	b := p.marshal(make([]byte, 1500))
	if len(b) != 172 || b[0] != 0x80 || b[1] != 0 {
		t.Fatalf("packet %d bytes, header % x", len(b), b[:2])
	}
	var q mediaPacket
	if err := q.unmarshal(b); err != nil || q != p {
		t.Errorf("round trip %+v -> %+v (%v)", p, q, err)
	}
	if err := q.unmarshal([]byte("garbage that is long enough to look like a packet......")); !errors.Is(err, errNotMedia) {
		t.Errorf("garbage: %v", err)
	}
}
