//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"syscall"
)

// ctFlush empties the conntrack table of the current network namespace
// (what `conntrack -F` does) over ctnetlink, so a scenario switch does not
// inherit NAT mappings or flows from the previous one.
func ctFlush() error {
	const (
		netlinkNetfilter    = 12
		nfnlSubsysCTNetlink = 1
		ipctnlMsgCTDelete   = 2
	)
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, netlinkNetfilter)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return err
	}
	for _, family := range []byte{syscall.AF_INET, syscall.AF_INET6} {
		msg := make([]byte, 20)
		binary.NativeEndian.PutUint32(msg[0:], 20)
		binary.NativeEndian.PutUint16(msg[4:], nfnlSubsysCTNetlink<<8|ipctnlMsgCTDelete)
		binary.NativeEndian.PutUint16(msg[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_ACK)
		binary.NativeEndian.PutUint32(msg[8:], uint32(family)) // seq
		msg[16] = family                                       // nfgenmsg: family, version 0, res_id 0
		if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
			return fmt.Errorf("ctnetlink flush: %w", err)
		}
		buf := make([]byte, 4096)
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Type == syscall.NLMSG_ERROR && len(m.Data) >= 4 {
				if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 && syscall.Errno(-e) != syscall.ENOENT {
					return fmt.Errorf("ctnetlink flush family %d: %w", family, syscall.Errno(-e))
				}
			}
		}
	}
	return nil
}
