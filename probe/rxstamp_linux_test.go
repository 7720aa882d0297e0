//go:build linux

package probe

import (
	"net"
	"testing"
	"time"
)

// The kernel stamps what the self relay's socket receives: the arrival
// time of relayed media does not wait for the reading goroutine.
func TestRxStampsLinux(t *testing.T) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if !enableRxStamps(rx) {
		t.Fatal("SO_TIMESTAMPNS refused")
	}
	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	before := time.Now()
	if _, err := tx.Write([]byte("stamp me")); err != nil {
		t.Fatal(err)
	}
	_ = rx.SetReadDeadline(time.Now().Add(2 * time.Second))
	var b [64]byte
	var oob [128]byte
	n, _, at, kernel, err := readKernelStamped(rx, b[:], oob[:])
	if err != nil || string(b[:n]) != "stamp me" || !kernel || at.Before(before.Add(-time.Second)) || at.After(time.Now()) {
		t.Fatalf("read %q err %v: at %v kernel %v (sent after %v)", b[:n], err, at, kernel, before)
	}
}
