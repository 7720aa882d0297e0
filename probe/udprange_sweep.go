package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/pion/stun/v4"

	"github.com/ucprobe/ucprobe/probe/responder"
)

// sweeper sends the probes of one sweep from one socket and collects what
// comes back: STUN answers (open) and, where the OS queues them, ICMP
// errors naming the port (closed, prohibited, unreachable).
type sweeper struct {
	conn    *net.UDPConn
	local   netip.AddrPort
	target  netip.Addr
	ports   []uint16
	index   map[uint16]int
	session string
	key     stun.MessageIntegrity
	rate    int

	mu          sync.Mutex
	state       []string // "" until a port has a state
	tried       []bool
	pending     map[[stun.TransactionIDSize]byte]probeSent
	rtts        []time.Duration
	resolved    int
	answered    int
	sessionSeen bool
	asymmetric  int
	done        chan struct{} // closed when every port has a state

	// filled by fetchReceipts
	arrived   []bool
	notServed []bool
	receipts  bool

	sent, rounds int
	// maxRounds caps the passes (0: sweepRounds); shuffle sends each pass
	// in random order, so a far end's rate limit silences scattered ports,
	// not a contiguous tail (live sampling, udprange_live.go).
	maxRounds int
	shuffle   bool
	stop      chan struct{} // tells readLoop to drain once more and end
	readDone  chan struct{}
}

// sweepReadBuffer is the sweep socket's receive buffer: room for some
// 20,000 answers.
const sweepReadBuffer = 4 << 20

type probeSent struct {
	idx int
	at  time.Time
}

func newSweeper(target netip.Addr, ports []uint16, local *PortRange, cfg *Config, rate int) (*sweeper, error) {
	conn, err := bindLocal(target, local)
	if err != nil {
		return nil, err
	}
	EnableICMPErrors(conn)
	// A whole range answers within a few ms: the default buffer (about
	// 200 KB) overflows when the CPU is busy, and dropped answers cost a
	// retransmission round. The OS caps the size (rmem_max); best effort.
	_ = conn.SetReadBuffer(sweepReadBuffer)
	var sid [8]byte
	_, _ = rand.Read(sid[:])
	s := &sweeper{
		conn: conn, local: conn.LocalAddr().(*net.UDPAddr).AddrPort(), target: target, ports: ports,
		index: make(map[uint16]int, len(ports)), session: "sw-" + hex.EncodeToString(sid[:]),
		key: responder.Key(cfg.ResponderToken.Reveal()), rate: rate,
		state: make([]string, len(ports)), tried: make([]bool, len(ports)),
		pending: map[[stun.TransactionIDSize]byte]probeSent{}, done: make(chan struct{}), stop: make(chan struct{}), readDone: make(chan struct{}),
	}
	for i, p := range ports {
		s.index[p] = i
	}
	return s, nil
}

// run makes passes over the ports without a state until every port has
// one, the rounds run out, rounds stop bringing answers, or ctx ends.
func (s *sweeper) run(ctx context.Context) {
	go s.readLoop()
	idle := 0
	rounds := sweepRounds
	if s.maxRounds > 0 {
		rounds = s.maxRounds
	}
	for range rounds {
		todo := s.silent()
		if len(todo) == 0 {
			return
		}
		if s.shuffle {
			mrand.Shuffle(len(todo), func(i, j int) { todo[i], todo[j] = todo[j], todo[i] })
		}
		before := s.resolvedCount()
		s.rounds++
		if !s.sendRound(ctx, todo) {
			return
		}
		s.waitRound(ctx)
		if ctx.Err() != nil {
			return
		}
		if s.resolvedCount() == before {
			if idle++; idle >= sweepIdleRounds {
				return
			}
		} else {
			idle = 0
		}
	}
}

// close stops readLoop after its last drain of the ICMP queue, then
// closes the socket.
func (s *sweeper) close() {
	close(s.stop)
	<-s.readDone
	_ = s.conn.Close()
}

func (s *sweeper) silent() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i, st := range s.state {
		if st == "" {
			out = append(out, i)
		}
	}
	return out
}

func (s *sweeper) resolvedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resolved
}

// sendRound sends one probe to each port of todo, paced at s.rate. It
// returns false when ctx ended first.
func (s *sweeper) sendRound(ctx context.Context, todo []int) bool {
	interval := time.Second / time.Duration(s.rate)
	next := time.Now()
	for _, i := range todo {
		if ctx.Err() != nil {
			return false
		}
		if s.stateOf(i) != "" { // answered meanwhile (a late answer to an earlier round)
			continue
		}
		s.send(i)
		next = next.Add(interval)
		// Sleep in slices of a few ms: timers are too coarse per packet.
		if d := time.Until(next); d > 2*time.Millisecond {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(d):
			}
		}
	}
	return true
}

func (s *sweeper) stateOf(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state[i]
}

func (s *sweeper) send(i int) {
	m, err := responder.NewRequest(s.session, s.key)
	if err != nil {
		return
	}
	dst := netip.AddrPortFrom(s.target, s.ports[i])
	s.mu.Lock()
	s.pending[m.TransactionID] = probeSent{idx: i, at: time.Now()}
	s.tried[i] = true
	s.sent++
	s.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		_, err = s.conn.WriteToUDPAddrPort(m.Raw, dst)
		if err == nil {
			return
		}
		pendingICMP := errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
		switch {
		case pendingICMP && attempt == 0:
			// An ICMP error for an earlier probe surfaced on this
			// call (Linux IP_RECVERR); readLoop files it from the
			// queue. Send again.
		case errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EAGAIN):
			time.Sleep(time.Millisecond)
		default:
			s.setState(i, portStateOf(Classify(err)))
			return
		}
	}
	if c := Classify(err); c == ClassProhibited || c == ClassUnreachable {
		s.setState(i, portStateOf(c))
	}
}

// portStateOf maps an error class (ICMP or a send error) to a port state.
func portStateOf(c ErrorClass) string {
	switch c {
	case ClassRefused:
		return PortClosed
	case ClassProhibited:
		return PortProhibited
	case ClassUnreachable:
		return PortUnreachable
	}
	return ""
}

// setState gives port i a state unless it has one (an answer wins over a
// later ICMP error for another try).
func (s *sweeper) setState(i int, st string) {
	if st == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLocked(i, st)
}

func (s *sweeper) setLocked(i int, st string) {
	if s.state[i] != "" {
		return
	}
	s.state[i] = st
	s.resolved++
	if s.resolved == len(s.ports) {
		close(s.done)
	}
}

// waitRound waits for the answers of the round just sent: a few RTTs once
// an RTT is known, else long enough for a slow path.
func (s *sweeper) waitRound(ctx context.Context) {
	s.mu.Lock()
	wait := silentRoundWait
	if len(s.rtts) > 0 {
		wait = min(max(3*slices.Max(s.rtts)+20*time.Millisecond, minRoundWait), maxRoundWait)
	}
	s.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.done:
	case <-t.C:
	}
}

// readLoop is the only reader of the socket: answers, and the ICMP error
// queue (a read that holds the socket's read lock would block any other
// goroutine's drain). Short read deadlines let it drain the queue and see
// stop.
func (s *sweeper) readLoop() {
	defer close(s.readDone)
	buf := make([]byte, 1500)
	for {
		select {
		case <-s.stop:
			s.drainICMP()
			return
		default:
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(readSlice))
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A deadline, or (Linux) a queued ICMP error reported once
			// as a read error.
			s.drainICMP()
			continue
		}
		s.onPacket(buf[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
	}
}

// readSlice is how long readLoop blocks before it looks at the ICMP queue
// and the stop signal.
const readSlice = 20 * time.Millisecond

func (s *sweeper) onPacket(b []byte, from netip.AddrPort) {
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := m.Decode(); err != nil {
		return
	}
	if m.Type.Class != stun.ClassSuccessResponse && m.Type.Class != stun.ClassErrorResponse {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[m.TransactionID]
	if !ok {
		return
	}
	delete(s.pending, m.TransactionID)
	if from.Addr() != s.target {
		s.asymmetric++
	}
	if s.state[p.idx] == "" {
		s.answered++
		s.rtts = append(s.rtts, time.Since(p.at))
	}
	if !s.sessionSeen && responder.SessionOf(m) == s.session && (s.key == nil || s.key.Check(m) == nil) {
		s.sessionSeen = true
	}
	s.setLocked(p.idx, PortOpen)
}

func (s *sweeper) drainICMP() {
	for _, e := range ReadICMPErrors(s.conn) {
		if e.Dest.Addr().Unmap() != s.target {
			continue
		}
		if i, ok := s.index[e.Dest.Port()]; ok {
			s.setState(i, portStateOf(e.Class))
		}
	}
}

func (s *sweeper) rttStats() (median, maxMS float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rtts) == 0 {
		return 0, 0
	}
	r := slices.Clone(s.rtts)
	slices.Sort(r)
	return ms(r[len(r)/2]), ms(r[len(r)-1])
}

// summarize settles the final states (tried and silent: filtered; not
// tried: untested), applies the receipts and counts.
func summarize(s *sweeper, det *UDPRangeDetails, ranges []PortRange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := make([]string, len(s.ports))
	for i := range s.ports {
		st := s.state[i]
		if st == "" && s.tried[i] {
			st = PortFiltered
		}
		if st != PortOpen && st != "" && s.notServed != nil && s.notServed[i] {
			st = PortNotServed
		}
		s.state[i] = st
		if s.receipts && (st == PortFiltered || st == PortProhibited || st == PortUnreachable || st == PortClosed) {
			dir[i] = DirInbound
			if s.arrived[i] {
				dir[i] = DirReturn
			}
		}
		if s.receipts && s.arrived[i] {
			det.Arrived++
		}
		switch st {
		case PortOpen:
			det.Open++
		case PortClosed:
			det.Closed++
		case PortProhibited:
			det.Prohibited++
		case PortUnreachable:
			det.Unreachable++
		case PortFiltered:
			det.Filtered++
		case PortNotServed:
			det.NotServed++
		}
	}
	det.Ports = det.Open + det.Closed + det.Prohibited + det.Unreachable + det.Filtered + det.NotServed
	det.Receipts = s.receipts
	det.SubRanges = compress(s.ports, s.state, dir, ranges)
}
