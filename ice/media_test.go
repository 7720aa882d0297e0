package ice

import (
	"cmp"
	"context"
	"errors"
	"math"
	"os"
	"slices"
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

// fakeLink is an in-memory path whose echo of each packet arrives a
// scripted delay after the packet was sent, and that drops scripted
// packets: the measurement's numbers are checked against exactly what was
// injected. No timer runs in it. Each echo's arrival is stamped
// (arrivalClock) at its packet's send time plus its delay, on the
// stream's epoch, so a reader or timer the scheduler holds back changes no
// round trip. Echoes are read in arrival order, each once no packet still
// to come could arrive before it (a later packet's send time has passed
// it); a read deadline, which measure sets only to end its reading, hands
// out the rest and then ends the reads.
type fakeLink struct {
	start   time.Time // the stream's epoch (measureSince's start)
	delay   func(seq uint16) time.Duration
	drop    func(seq uint16) bool
	onWrite func(seq uint16) // after each packet taken (nil: nothing)

	mu       sync.Mutex
	cond     *sync.Cond
	rx, echo uint32
	horizon  int64      // the latest packet's send time, ns since start
	pending  []fakeEcho // not read yet, by arrival
	ended    bool       // a read deadline was set
	at       time.Time  // arrival of the echo the last Read returned
	read     []fakeEcho // the echoes read, in order
}

type fakeEcho struct {
	seq   uint16
	at    int64 // arrival, ns since start
	delay time.Duration
	pkt   []byte
}

func newFakeLink(start time.Time, delay func(uint16) time.Duration, drop func(uint16) bool) *fakeLink {
	f := &fakeLink{start: start, delay: delay, drop: drop}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *fakeLink) Write(b []byte) (int, error) {
	var p mediaPacket
	if err := p.unmarshal(b); err != nil {
		return 0, err
	}
	f.mu.Lock()
	f.horizon = max(f.horizon, p.sentNS)
	if !f.drop(p.seq) {
		f.rx++
		p.kind, p.peerRx, p.peerSeq = kindEcho, f.rx, f.echo
		f.echo++
		d := f.delay(p.seq)
		e := fakeEcho{seq: p.seq, at: p.sentNS + d.Nanoseconds(), delay: d, pkt: p.marshal(make([]byte, 1500))}
		i, _ := slices.BinarySearchFunc(f.pending, e, func(a, b fakeEcho) int {
			return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq))
		})
		f.pending = slices.Insert(f.pending, i, e)
	}
	f.cond.Broadcast()
	f.mu.Unlock()
	if f.onWrite != nil {
		f.onWrite(p.seq)
	}
	return len(b), nil
}

func (f *fakeLink) Read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if len(f.pending) > 0 && (f.ended || f.pending[0].at < f.horizon) {
			e := f.pending[0]
			f.pending = f.pending[1:]
			f.at = f.start.Add(time.Duration(e.at))
			f.read = append(f.read, e)
			return copy(b, e.pkt), nil
		}
		if f.ended {
			return 0, os.ErrDeadlineExceeded
		}
		f.cond.Wait()
	}
}

// arrival implements arrivalClock: the scripted arrival of the echo the
// last Read returned.
func (f *fakeLink) arrival() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at, true
}

func (f *fakeLink) SetReadDeadline(t time.Time) error {
	f.mu.Lock()
	f.ended = !t.IsZero()
	f.cond.Broadcast()
	f.mu.Unlock()
	return nil
}

func TestMeasureInjected(t *testing.T) {
	// Every other echo 30 ms late on top of 10 ms; every 10th packet lost.
	start := time.Now()
	link := newFakeLink(start,
		func(seq uint16) time.Duration { return 10*time.Millisecond + time.Duration(seq%2)*30*time.Millisecond },
		func(seq uint16) bool { return seq%10 == 9 },
	)
	st := measureSince(context.Background(), link, 2*time.Second, G711, start)
	// The sender catches up on slots it missed: 2 s / 20 ms, exactly.
	if st.Sent != 100 || st.Received != 90 || st.CutShort {
		t.Fatalf("sent %d received %d cut %v, want 100, 90 and not cut", st.Sent, st.Received, st.CutShort)
	}
	if st.LossPct != 10 || st.LossUpPct != 10 || st.LossDownPct != 0 || st.Duplicates != 0 {
		t.Errorf("loss %.2f %% (up %.2f, down %.2f), duplicates %d, want 10 (10 and 0), 0", st.LossPct, st.LossUpPct, st.LossDownPct, st.Duplicates)
	}
	// RTT alternates 10 and 40 ms; the lost packets are all odd (slow)
	// ones: mean (50 x 10 + 40 x 40)/90 = 23.33, p95 40.
	if st.RTTMeanMS != 23.33 || st.RTTP95MS != 40 || st.RTTMinMS != 10 || st.RTTMaxMS != 40 {
		t.Errorf("RTT mean %.2f p95 %.2f min %.2f max %.2f, want 23.33 / 40 / 10 / 40", st.RTTMeanMS, st.RTTP95MS, st.RTTMinMS, st.RTTMaxMS)
	}
	// Jitter (RFC 3550, in arrival order) and reordering depend on the
	// order the echoes arrived, which depends on when the sender really
	// sent (one held back catches up in a burst): derive both from the
	// order the link delivered. On time, a 40 ms echo is overtaken by the
	// next packet's 10 ms one (40 reordered), and |D| is 30 ms between
	// neighbours except across a lost packet: J about 27 ms.
	link.mu.Lock()
	read := slices.Clone(link.read)
	link.mu.Unlock()
	wantReordered, maxSeq := 0, -1
	var j, last float64
	for i, e := range read {
		if int(e.seq) < maxSeq {
			wantReordered++
		}
		maxSeq = max(maxSeq, int(e.seq))
		rtt := float64(e.delay) / float64(time.Millisecond)
		if i > 0 {
			j += (math.Abs(rtt-last) - j) / 16
		}
		last = rtt
	}
	if wantReordered == 0 {
		t.Fatalf("no echo arrived out of order: the scenario tests no reordering (order %v)", read)
	}
	if st.Reordered != wantReordered {
		t.Errorf("reordered %d, the link delivered %d out of order", st.Reordered, wantReordered)
	}
	if math.Abs(st.JitterMS-j) > 0.005 {
		t.Errorf("jitter %.2f ms, want %.2f from the arrival order", st.JitterMS, j)
	}
	want := MOS(RFactor(G711, st.RTTMeanMS, st.JitterMS, st.LossPct))
	if math.Abs(st.MOS-want) > 0.01 {
		t.Errorf("MOS %.2f, E-model %.2f", st.MOS, want)
	}
	t.Logf("%+v", *st)
}

// A ctx that ends mid-window cuts the stream there and keeps what was
// measured: the link ends ctx when it takes the 15th packet.
func TestMeasureCutShort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	link := newFakeLink(start, func(uint16) time.Duration { return time.Millisecond }, func(uint16) bool { return false })
	link.onWrite = func(seq uint16) {
		if seq == 14 {
			cancel()
		}
	}
	st := measureSince(ctx, link, 10*time.Second, G711, start)
	if !st.CutShort || st.Sent != 15 {
		t.Errorf("cut short %v after %d packets, want cut after 15", st.CutShort, st.Sent)
	}
	if st.Received != 15 || st.LossPct != 0 {
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
