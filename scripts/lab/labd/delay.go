//go:build linux

package main

import (
	"container/heap"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// cmdDelay bridges two interfaces in userspace (AF_PACKET, whole Ethernet
// frames) and holds every frame for --delay plus a random 0..--jitter
// before it goes out the other side: a slow, jittery path without netem.
// Each direction is delayed on its own, so a round trip costs twice. Frames
// overtake each other when their random delays say so, as on a path with
// jitter. It runs until killed (or --lifetime).
//
//	labd delay --a IF --b IF --delay 50ms --jitter 250ms
func cmdDelay(args []string) error {
	fs := flag.NewFlagSet("delay", flag.ExitOnError)
	a := fs.String("a", "", "first interface")
	b := fs.String("b", "", "second interface")
	delay := fs.Duration("delay", 100*time.Millisecond, "fixed one-way delay")
	jitter := fs.Duration("jitter", 100*time.Millisecond, "extra one-way delay, uniform in 0..jitter")
	lifetime := fs.Duration("lifetime", 2*time.Hour, "exit after this long (0: never)")
	_ = fs.Parse(args)
	if *a == "" || *b == "" || *delay < 0 || *jitter < 0 {
		return errors.New("delay: give --a IF --b IF and non-negative --delay/--jitter")
	}
	stopAfter(*lifetime)
	fa, err := rawSocket(*a)
	if err != nil {
		return err
	}
	fb, err := rawSocket(*b)
	if err != nil {
		return err
	}
	log.Printf("delay: %s <-> %s, one way %s + 0..%s", *a, *b, *delay, *jitter)
	errc := make(chan error, 2)
	go func() { errc <- forwardDelayed(fa, fb, *delay, *jitter) }()
	go func() { errc <- forwardDelayed(fb, fa, *delay, *jitter) }()
	return <-errc
}

// rawSocket is an AF_PACKET socket bound to one interface, seeing every
// frame that arrives on it (the interface is not in a bridge).
func rawSocket(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return -1, fmt.Errorf("delay: %w", err)
	}
	proto := htons(syscall.ETH_P_ALL)
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return -1, fmt.Errorf("delay: packet socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("delay: bind %s: %w", name, err)
	}
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// held is one frame waiting for its time to go.
type held struct {
	due   time.Time
	frame []byte
}

type heldQueue []held

func (q heldQueue) Len() int           { return len(q) }
func (q heldQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q heldQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *heldQueue) Push(x any)        { *q = append(*q, x.(held)) }
func (q *heldQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// forwardDelayed reads frames from in and writes each to out when its
// delay is over. Frames the kernel sent out of in itself (PACKET_OUTGOING)
// are ours going the other way: skipped.
func forwardDelayed(in, out int, delay, jitter time.Duration) error {
	var mu sync.Mutex
	q := &heldQueue{}
	wake := make(chan struct{}, 1)
	go func() {
		t := time.NewTimer(time.Hour)
		for {
			mu.Lock()
			var next time.Duration = time.Hour
			for q.Len() > 0 {
				h := (*q)[0]
				if d := time.Until(h.due); d > 0 {
					next = d
					break
				}
				heap.Pop(q)
				mu.Unlock()
				_, _ = syscall.Write(out, h.frame)
				mu.Lock()
			}
			mu.Unlock()
			t.Reset(next)
			select {
			case <-t.C:
			case <-wake:
			}
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, from, err := syscall.Recvfrom(in, buf, 0)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return fmt.Errorf("delay: read: %w", err)
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue
		}
		d := delay
		if jitter > 0 {
			d += rand.N(jitter)
		}
		mu.Lock()
		heap.Push(q, held{due: time.Now().Add(d), frame: append([]byte(nil), buf[:n]...)})
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// cmdNoOffload turns off checksum and segmentation offloads on the given
// interfaces (the ethtool ioctl; the lab has no ethtool). A userspace
// bridge sees frames as the sender's driver left them: with offloads a
// veth hands over unfinished checksums and 64 KB TCP super-frames, which
// the far side then drops.
//
//	labd nooffload IF...
func cmdNoOffload(args []string) error {
	if len(args) == 0 {
		return errors.New("nooffload: name the interfaces")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	const (
		siocEthtool = 0x8946
		setTxCsum   = 0x17 // ETHTOOL_STXCSUM (turning it off turns TSO off too)
		setSG       = 0x19 // ETHTOOL_SSG
		setTSO      = 0x1f // ETHTOOL_STSO
		setGSO      = 0x24 // ETHTOOL_SGSO
		setGRO      = 0x2c // ETHTOOL_SGRO
	)
	for _, name := range args {
		for _, cmd := range []uint32{setTSO, setGSO, setGRO, setTxCsum, setSG} {
			val := struct{ cmd, data uint32 }{cmd, 0}
			var ifr struct {
				name [16]byte
				data uintptr
				_    [16]byte
			}
			copy(ifr.name[:], name)
			ifr.data = uintptr(unsafe.Pointer(&val))
			_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), siocEthtool, uintptr(unsafe.Pointer(&ifr)))
			runtime.KeepAlive(&val)
			if e != 0 && e != syscall.EOPNOTSUPP {
				return fmt.Errorf("nooffload %s (ethtool cmd %#x): %w", name, cmd, e)
			}
		}
	}
	return nil
}
