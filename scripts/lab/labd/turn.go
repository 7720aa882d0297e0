//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"
)

// cmdTURN does one TURN Allocate with long-term credentials (then frees it)
// and prints "ok relay=..." or "auth code=401 ..." / "timeout" / "refused".
func cmdTURN(args []string) int {
	fs := flag.NewFlagSet("turn", flag.ExitOnError)
	server := fs.String("server", "", "TURN server `HOST:PORT`")
	user := fs.String("user", "", "username")
	pass := fs.String("pass", "", "password")
	useTCP := fs.Bool("tcp", false, "TURN over TCP instead of UDP")
	timeout := fs.Duration("timeout", 2*time.Second, "overall timeout")
	_ = fs.Parse(args)
	if *server == "" {
		usage()
	}
	network := "udp4"
	if *useTCP {
		network = "tcp4"
	}
	deadline := time.Now().Add(*timeout)
	c, err := net.DialTimeout(network, *server, *timeout)
	if err != nil {
		fmt.Printf("%s turn %s/%s err=%q\n", errnoClass(err), *server, network, err.Error())
		return 1
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	rt := func(m *stunMsg, key []byte) (*stunMsg, error) {
		out := m.encode(key)
		if *useTCP {
			if _, err := c.Write(out); err != nil {
				return nil, err
			}
			hdr := make([]byte, 20)
			if _, err := io.ReadFull(c, hdr); err != nil {
				return nil, err
			}
			body := make([]byte, binary.BigEndian.Uint16(hdr[2:]))
			if _, err := io.ReadFull(c, body); err != nil {
				return nil, err
			}
			return decodeSTUN(append(hdr, body...))
		}
		buf := make([]byte, 2048)
		// UDP: retransmit every 250 ms until the deadline.
		for {
			if _, err := c.Write(out); err != nil {
				return nil, err
			}
			_ = c.SetReadDeadline(minTime(deadline, time.Now().Add(250*time.Millisecond)))
			n, err := c.Read(buf)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && time.Now().Before(deadline) {
				continue
			}
			if err != nil {
				return nil, err
			}
			r, err := decodeSTUN(buf[:n])
			if err != nil || r.txid != m.txid {
				continue
			}
			return r, nil
		}
	}
	alloc := func(realm, nonce []byte, key []byte) *stunMsg {
		m := &stunMsg{typ: turnAllocateRequest, txid: newTxID()}
		m.add(attrRequestedTranspt, []byte{17, 0, 0, 0})
		if key != nil {
			m.add(attrUsername, []byte(*user))
			m.add(attrRealm, realm)
			m.add(attrNonce, nonce)
		}
		return m
	}
	r, err := rt(alloc(nil, nil, nil), nil)
	if err != nil {
		fmt.Printf("%s turn %s/%s err=%q\n", errnoClass(err), *server, network, err.Error())
		return 1
	}
	code, reason := errorCode(r.get(attrErrorCode))
	if r.typ != turnAllocateError || code != 401 {
		fmt.Printf("protocol turn %s/%s unexpected answer type=%#04x code=%d %s\n", *server, network, r.typ, code, reason)
		return 1
	}
	realm, nonce := r.get(attrRealm), r.get(attrNonce)
	key := longTermKey(*user, string(realm), *pass)
	r, err = rt(alloc(realm, nonce, key), key)
	if err != nil {
		fmt.Printf("%s turn %s/%s err=%q\n", errnoClass(err), *server, network, err.Error())
		return 1
	}
	if r.typ == turnAllocateSuccess {
		relay, _ := parseXORAddr(r.get(attrXORRelayedAddress), r.txid)
		mapped, _ := parseXORAddr(r.get(attrXORMappedAddress), r.txid)
		fmt.Printf("ok turn %s/%s realm=%s relay=%s mapped=%s\n", *server, network, realm, relay, mapped)
		// Free the allocation (Refresh, LIFETIME 0).
		f := &stunMsg{typ: turnRefreshRequest, txid: newTxID()}
		f.add(attrLifetime, []byte{0, 0, 0, 0})
		f.add(attrUsername, []byte(*user))
		f.add(attrRealm, realm)
		f.add(attrNonce, nonce)
		_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
		_, _ = c.Write(f.encode(key))
		return 0
	}
	code, reason = errorCode(r.get(attrErrorCode))
	class := "protocol"
	if code == 401 || code == 441 {
		class = "auth"
	}
	fmt.Printf("%s turn %s/%s code=%d reason=%q realm=%s\n", class, *server, network, code, reason, realm)
	return 1
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
