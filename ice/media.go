package ice

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// The media-like stream: RTP-shaped packets (12-byte RTP header, PT 0
// PCMU, a G.711 payload of 160 bytes at 20 ms) that carry, inside the
// payload, what the measurement needs. The peer echoes every packet back
// at once, so one end measures the round trip on its own clock.
//
//	payload[0:4]   magic "UCPM"
//	payload[4]     kind: 1 probe, 2 echo
//	payload[8:16]  sender's send time, ns since the stream began
//	payload[16:20] echo: packets the peer has received so far
//	payload[20:24] echo: the peer's own echo sequence number
//	payload[24:28] echo: the peer's RFC 3550 jitter estimate, in µs
const (
	rtpHeaderLen = 12
	kindProbe    = 1
	kindEcho     = 2
	rtpClockHz   = 8000
)

var mediaMagic = [4]byte{'U', 'C', 'P', 'M'}

// errNotMedia is a packet that is not ucprobe's media stream.
var errNotMedia = errors.New("not a ucprobe media packet")

type mediaPacket struct {
	seq       uint16
	timestamp uint32
	ssrc      uint32
	kind      byte
	sentNS    int64
	peerRx    uint32
	peerSeq   uint32
	peerJitUS uint32
}

func (p *mediaPacket) marshal(buf []byte) []byte {
	buf = buf[:rtpHeaderLen+G711.PayloadBytes]
	clear(buf)
	buf[0] = 0x80 // RTP version 2
	buf[1] = 0    // PT 0: PCMU
	binary.BigEndian.PutUint16(buf[2:], p.seq)
	binary.BigEndian.PutUint32(buf[4:], p.timestamp)
	binary.BigEndian.PutUint32(buf[8:], p.ssrc)
	pl := buf[rtpHeaderLen:]
	copy(pl[0:4], mediaMagic[:])
	pl[4] = p.kind
	binary.BigEndian.PutUint64(pl[8:], uint64(p.sentNS))
	binary.BigEndian.PutUint32(pl[16:], p.peerRx)
	binary.BigEndian.PutUint32(pl[20:], p.peerSeq)
	binary.BigEndian.PutUint32(pl[24:], p.peerJitUS)
	return buf
}

func (p *mediaPacket) unmarshal(b []byte) error {
	if len(b) < rtpHeaderLen+28 || b[0]>>6 != 2 || [4]byte(b[rtpHeaderLen:rtpHeaderLen+4]) != mediaMagic {
		return errNotMedia
	}
	p.seq = binary.BigEndian.Uint16(b[2:])
	p.timestamp = binary.BigEndian.Uint32(b[4:])
	p.ssrc = binary.BigEndian.Uint32(b[8:])
	pl := b[rtpHeaderLen:]
	p.kind = pl[4]
	p.sentNS = int64(binary.BigEndian.Uint64(pl[8:]))
	p.peerRx = binary.BigEndian.Uint32(pl[16:])
	p.peerSeq = binary.BigEndian.Uint32(pl[20:])
	p.peerJitUS = binary.BigEndian.Uint32(pl[24:])
	return nil
}

// packetConn is the part of an ICE connection the stream uses.
type packetConn interface {
	Read([]byte) (int, error)
	Write([]byte) (int, error)
	SetReadDeadline(time.Time) error
}

// arrivalClock is a packetConn that knows when the packet its last Read
// returned arrived (a kernel timestamp): the round trip then leaves out
// the wait for a busy scheduler to run the reader.
type arrivalClock interface {
	arrival() (time.Time, bool)
}

// jitter is the RFC 3550 (6.4.1) interarrival jitter estimator:
// J += (|D(i-1,i)| - J)/16, D the change of transit time.
type jitter struct {
	j         float64 // in the unit of transit
	last      float64
	havePrior bool
}

func (j *jitter) add(transit float64) {
	if j.havePrior {
		d := math.Abs(transit - j.last)
		j.j += (d - j.j) / 16
	}
	j.last, j.havePrior = transit, true
}

// measure sends the stream for window (cut short when ctx ends), reads
// the echoes and returns the statistics. It returns when the window and a
// short grace for late echoes are over, and leaves no goroutine behind.
func measure(ctx context.Context, conn packetConn, window time.Duration, codec Codec) *probe.MediaStats {
	return measureSince(ctx, conn, window, codec, time.Now())
}

// measureSince is measure with the stream's epoch given: send times, and
// the arrivals an arrivalClock reports, count from start (a test's link
// stamps its scripted arrivals on the same epoch).
func measureSince(ctx context.Context, conn packetConn, window time.Duration, codec Codec, start time.Time) *probe.MediaStats {
	st := &probe.MediaStats{
		Codec: codec.Name, PacketBytes: rtpHeaderLen + codec.PayloadBytes, PacketMS: codec.PacketMS, Transport: "udp",
	}
	m := &mediaRun{conn: conn, start: start, seen: map[uint16]bool{}, maxSeq: -1}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		m.readEchoes()
	}()
	interval := time.Duration(codec.PacketMS) * time.Millisecond
	sent, cut := m.send(ctx, window, interval, codec)
	st.CutShort = cut
	sentFor := time.Since(m.start)
	m.grace(ctx)
	_ = conn.SetReadDeadline(time.Now())
	<-readerDone
	_ = conn.SetReadDeadline(time.Time{})

	m.mu.Lock()
	defer m.mu.Unlock()
	st.DurationS = round(sentFor.Seconds(), 2)
	m.fill(st, sent)
	st.RFactor, st.MOS = 0, 1
	if st.Received > 0 {
		st.RFactor = round(RFactor(codec, st.RTTMeanMS, st.JitterMS, st.LossPct), 1)
		st.MOS = round(MOS(st.RFactor), 2)
	}
	st.Grade = Grade(st.MOS)
	st.Series = mediaSeries(m.echoes, sent, interval, window)
	return st
}

// mediaRun is one measurement's state: what came back, shared between the
// reader and the caller under mu.
type mediaRun struct {
	conn  packetConn
	start time.Time

	mu         sync.Mutex
	rtts       []float64
	echoes     []echo
	seen       map[uint16]bool
	maxSeq     int
	jit        jitter
	peerRx     uint32
	peerSeq    uint32
	peerJitUS  uint32
	haveEcho   bool
	dups, reor int
}

// readEchoes records every echo until the connection's read deadline.
func (m *mediaRun) readEchoes() {
	buf := make([]byte, 1500)
	var p mediaPacket
	for {
		n, err := m.conn.Read(buf)
		if err != nil {
			return
		}
		now := time.Since(m.start).Nanoseconds()
		if ac, ok := m.conn.(arrivalClock); ok {
			if at, ok := ac.arrival(); ok {
				now = at.Sub(m.start).Nanoseconds()
			}
		}
		if p.unmarshal(buf[:n]) != nil || p.kind != kindEcho {
			continue
		}
		m.record(p, now)
	}
}

func (m *mediaRun) record(p mediaPacket, now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[p.seq] {
		m.dups++
		return
	}
	m.seen[p.seq] = true
	if int(p.seq) < m.maxSeq {
		m.reor++
	} else {
		m.maxSeq = int(p.seq)
	}
	rtt := float64(now-p.sentNS) / 1e6
	m.rtts = append(m.rtts, rtt)
	m.jit.add(rtt)
	m.echoes = append(m.echoes, echo{seq: p.seq, sentNS: p.sentNS, rttMS: rtt, jitterMS: m.jit.j})
	if !m.haveEcho || p.peerSeq >= m.peerSeq {
		m.peerRx, m.peerSeq, m.peerJitUS, m.haveEcho = p.peerRx, p.peerSeq, p.peerJitUS, true
	}
}

// send paces the stream: packet i leaves at start + i x interval, as an
// RTP clock would send it; a sender the scheduler held back catches up at
// once, so the count is exact (window / interval) and the delay shows as
// jitter. The count bounds the loop as well as the clock. It returns how
// many were sent and whether ctx cut the window short.
func (m *mediaRun) send(ctx context.Context, window, interval time.Duration, codec Codec) (sent int, cut bool) {
	samples := uint32(rtpClockHz * codec.PacketMS / 1000)
	buf := make([]byte, 1500)
	total := int(window / interval)
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	for sent < total {
		if !waitUntil(ctx, timer, m.start.Add(time.Duration(sent)*interval)) {
			return sent, true
		}
		p := mediaPacket{seq: uint16(sent), timestamp: uint32(sent) * samples, ssrc: 0x75637072, kind: kindProbe,
			sentNS: time.Since(m.start).Nanoseconds()}
		if _, err := m.conn.Write(p.marshal(buf)); err != nil {
			return sent, false
		}
		sent++
	}
	// The window lasts until the last packet's slot is over.
	waitUntil(ctx, timer, m.start.Add(window))
	return sent, false
}

// waitUntil waits for t on timer; false when ctx ended first.
func waitUntil(ctx context.Context, timer *time.Timer, t time.Time) bool {
	// An ended ctx wins even when t is due: no packet leaves after it.
	if ctx.Err() != nil {
		return false
	}
	wait := time.Until(t)
	if wait <= 0 {
		return true
	}
	timer.Reset(wait)
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		timer.Stop() // Go 1.23+ timers: no stale value to drain
		return false
	}
}

// grace waits for echoes in flight: three of the slowest round trips
// seen, 200 ms to 1 s, never past ctx.
func (m *mediaRun) grace(ctx context.Context) {
	m.mu.Lock()
	g := 200 * time.Millisecond
	if len(m.rtts) > 0 {
		g = max(g, time.Duration(3*slices.Max(m.rtts)*float64(time.Millisecond)))
	}
	m.mu.Unlock()
	t := time.NewTimer(min(g, time.Second))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// fill puts the counts and figures into st (mu held).
func (m *mediaRun) fill(st *probe.MediaStats, sent int) {
	st.Sent, st.Received, st.Reordered, st.Duplicates = sent, len(m.rtts), m.reor, m.dups
	if sent > 0 {
		st.LossPct = round(100*float64(sent-len(m.rtts))/float64(sent), 2)
		st.LossUpPct, st.LossDownPct = 100, 100
		if m.haveEcho {
			st.LossUpPct = round(100*math.Max(0, float64(sent)-float64(m.peerRx))/float64(sent), 2)
			echoed := float64(m.peerSeq) + 1
			st.LossDownPct = round(100*math.Max(0, echoed-float64(len(m.rtts)))/echoed, 2)
		}
	}
	if len(m.rtts) == 0 {
		return
	}
	sorted := slices.Clone(m.rtts)
	slices.Sort(sorted)
	var sum float64
	for _, r := range sorted {
		sum += r
	}
	st.RTTMeanMS = round(sum/float64(len(sorted)), 2)
	st.RTTMinMS = round(sorted[0], 2)
	st.RTTMaxMS = round(sorted[len(sorted)-1], 2)
	st.RTTP95MS = round(percentile(sorted, 95), 2)
	st.JitterMS = round(m.jit.j, 2)
	st.JitterUpMS = round(float64(m.peerJitUS)/1000, 2)
}

// percentile of sorted values, nearest rank.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func round(v float64, places int) float64 {
	f := math.Pow(10, float64(places))
	return math.Round(v*f) / f
}

// echoBack echoes the media stream back until ctx ends or the connection
// fails: the far end of the measurement (the in-process peer, or the
// responder's session). It computes the RFC 3550 jitter of the stream it
// receives from the RTP timestamps and its own clock, and returns how many
// probe packets it received.
func echoBack(ctx context.Context, conn packetConn) int {
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	start := time.Now()
	buf := make([]byte, 1500)
	out := make([]byte, 1500)
	var (
		p    mediaPacket
		rx   uint32
		echo uint32
		jit  jitter
	)
	for ctx.Err() == nil {
		n, err := conn.Read(buf)
		if err != nil {
			return int(rx)
		}
		if p.unmarshal(buf[:n]) != nil || p.kind != kindProbe {
			continue
		}
		rx++
		// transit in ms: arrival on our clock minus the RTP timestamp.
		arrival := float64(time.Since(start).Nanoseconds()) / 1e6
		jit.add(arrival - float64(p.timestamp)*1000/rtpClockHz)
		e := p
		e.kind = kindEcho
		e.peerRx = rx
		e.peerSeq = echo
		e.peerJitUS = uint32(jit.j * 1000)
		echo++
		// A write fails while the controlled side has not selected its
		// pair yet; the sender counts that packet as lost, as it is.
		_, _ = conn.Write(e.marshal(out))
	}
	return int(rx)
}
