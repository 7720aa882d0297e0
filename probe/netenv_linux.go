//go:build linux

package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux the environment comes from rtnetlink: links with their kind
// (RTM_GETLINK), addresses (package net), the kernel's own route lookup
// for each target (RTM_GETROUTE, exactly what a socket would use,
// policy routing included) and the default routes of every table.
type linuxEnv struct{}

func newOSEnv() osEnv { return linuxEnv{} }

func (linuxEnv) interfaces(ctx context.Context) ([]Interface, error) {
	ifs, err := portableInterfaces()
	if err != nil {
		return ifs, err
	}
	links, err := netlinkLinks(ctx)
	if err != nil {
		// Names and flags only: say so rather than pretend.
		for i := range ifs {
			ifs[i].OSType = "unknown (netlink: " + err.Error() + ")"
		}
		return ifs, nil
	}
	for i := range ifs {
		l, ok := links[ifs[i].Index]
		if !ok || l.Name != ifs[i].Name {
			continue // it changed between the two reads; keep the flag-based view
		}
		if needsSysfs(l) {
			l.Wireless, l.DevType = sysfsWireless(l.Name, ifs[i].Index)
		}
		ifs[i].Kind, ifs[i].VPN, ifs[i].VPNHow, ifs[i].OSType = classifyLinux(l)
	}
	return ifs, nil
}

// sysfsWireless reads the wireless marker and DEVTYPE. sysfs shows the
// network namespace it was mounted in, so the result is used only when
// the ifindex there matches the one netlink gave.
func sysfsWireless(name string, index int) (wireless bool, devType string) {
	dir := "/sys/class/net/" + name + "/"
	b, err := os.ReadFile(dir + "ifindex")
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(index) {
		return false, ""
	}
	if _, err := os.Stat(dir + "wireless"); err == nil {
		wireless = true
	}
	if _, err := os.Stat(dir + "phy80211"); err == nil {
		wireless = true
	}
	if ue, err := os.ReadFile(dir + "uevent"); err == nil {
		for _, line := range strings.Split(string(ue), "\n") {
			if v, ok := strings.CutPrefix(line, "DEVTYPE="); ok {
				devType = v
			}
		}
	}
	return wireless, devType
}

func (linuxEnv) route(ctx context.Context, dst netip.Addr, ifs []Interface) (Route, error) {
	r := Route{Destination: dst.String(), How: "netlink", Family: familyOf(dst)}
	msgs, err := netlinkRequest(ctx, unix.RTM_GETROUTE, 0, routeQuery(dst))
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			switch errno {
			case unix.ENETUNREACH, unix.EHOSTUNREACH:
				r.NoRoute = true
				return r, nil
			case unix.EACCES, unix.EPERM:
				r.NoRoute = true
				r.How = "netlink (prohibit route)"
				return r, nil
			case unix.EINVAL:
				// A blackhole route answers EINVAL.
				r.NoRoute = true
				r.How = "netlink (blackhole route)"
				return r, nil
			}
		}
		return r, err
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWROUTE {
			continue
		}
		rt, ok := parseRoute(m)
		if !ok {
			continue
		}
		r.Source, r.Gateway = rt.src, rt.gw
		if rt.typ == unix.RTN_UNREACHABLE || rt.typ == unix.RTN_PROHIBIT || rt.typ == unix.RTN_BLACKHOLE {
			r.NoRoute = true
			return r, nil
		}
		r.Interface = nameOfIndex(ifs, rt.oif)
		if r.Interface == "" && rt.oif != 0 {
			return r, fmt.Errorf("route uses interface index %d: %w", rt.oif, errInterfaceGone)
		}
		return r, nil
	}
	return r, errors.New("netlink gave no route message")
}

func (linuxEnv) defaultRoutes(ctx context.Context, ifs []Interface) ([]Route, error) {
	var out []Route
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		body := make([]byte, unix.SizeofRtMsg)
		body[0] = fam
		msgs, err := netlinkRequest(ctx, unix.RTM_GETROUTE, unix.NLM_F_DUMP, body)
		if err != nil {
			return out, err
		}
		for _, m := range msgs {
			rt, ok := parseRoute(m)
			if !ok || rt.dstLen != 0 || rt.typ != unix.RTN_UNICAST {
				continue
			}
			r := Route{Destination: "default", How: "netlink", Gateway: rt.gw, Source: rt.src, Table: int(rt.table),
				Interface: nameOfIndex(ifs, rt.oif), Family: "ipv4"}
			if fam == unix.AF_INET6 {
				r.Family = "ipv6"
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func nameOfIndex(ifs []Interface, index int) string {
	for _, it := range ifs {
		if it.Index == index {
			return it.Name
		}
	}
	return ""
}

// routeQuery is an rtmsg plus RTA_DST for one host address.
func routeQuery(dst netip.Addr) []byte {
	ip := dst.AsSlice()
	body := make([]byte, unix.SizeofRtMsg, unix.SizeofRtMsg+unix.SizeofRtAttr+16)
	body[0] = unix.AF_INET
	if dst.Is6() {
		body[0] = unix.AF_INET6
	}
	body[1] = uint8(len(ip) * 8) // rtm_dst_len
	attr := make([]byte, unix.SizeofRtAttr)
	binary.NativeEndian.PutUint16(attr[0:], uint16(unix.SizeofRtAttr+len(ip)))
	binary.NativeEndian.PutUint16(attr[2:], unix.RTA_DST)
	body = append(body, attr...)
	return append(body, ip...)
}

type nlRoute struct {
	dstLen, typ uint8
	table       uint32
	oif         int
	gw, src     string
}

func parseRoute(m syscall.NetlinkMessage) (nlRoute, bool) {
	if m.Header.Type != unix.RTM_NEWROUTE || len(m.Data) < unix.SizeofRtMsg {
		return nlRoute{}, false
	}
	rt := nlRoute{dstLen: m.Data[1], table: uint32(m.Data[4]), typ: m.Data[7]}
	attrs, err := syscall.ParseNetlinkRouteAttr(&m)
	if err != nil {
		return nlRoute{}, false
	}
	for _, a := range attrs {
		switch a.Attr.Type {
		case unix.RTA_OIF:
			if len(a.Value) >= 4 {
				rt.oif = int(binary.NativeEndian.Uint32(a.Value))
			}
		case unix.RTA_GATEWAY:
			if ip, ok := netip.AddrFromSlice(a.Value); ok {
				rt.gw = ip.String()
			}
		case unix.RTA_PREFSRC:
			if ip, ok := netip.AddrFromSlice(a.Value); ok {
				rt.src = ip.String()
			}
		case unix.RTA_TABLE:
			if len(a.Value) >= 4 {
				rt.table = binary.NativeEndian.Uint32(a.Value)
			}
		case unix.RTA_MULTIPATH:
			// First next hop: struct rtnexthop {len u16, flags u8, hops u8, ifindex i32} + attrs.
			if len(a.Value) >= 8 && rt.oif == 0 {
				rt.oif = int(binary.NativeEndian.Uint32(a.Value[4:8]))
			}
		}
	}
	return rt, true
}

// netlinkLinks dumps links: ARPHRD type, flags and IFLA_INFO_KIND by index.
func netlinkLinks(ctx context.Context) (map[int]linuxLink, error) {
	body := make([]byte, unix.SizeofIfInfomsg)
	body[0] = unix.AF_UNSPEC
	msgs, err := netlinkRequest(ctx, unix.RTM_GETLINK, unix.NLM_F_DUMP, body)
	if err != nil {
		return nil, err
	}
	out := map[int]linuxLink{}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		ifi := (*unix.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
		l := linuxLink{ARPHRD: ifi.Type, Loopback: ifi.Flags&unix.IFF_LOOPBACK != 0}
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			continue
		}
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				l.Name = strings.TrimRight(string(a.Value), "\x00")
			case unix.IFLA_LINKINFO:
				l.InfoKind = linkInfoKind(a.Value)
			}
		}
		out[int(ifi.Index)] = l
	}
	return out, nil
}

// linkInfoKind finds IFLA_INFO_KIND inside the nested IFLA_LINKINFO.
func linkInfoKind(b []byte) string {
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		typ := binary.NativeEndian.Uint16(b[2:])
		if l < unix.SizeofRtAttr || l > len(b) {
			return ""
		}
		if typ == unix.IFLA_INFO_KIND {
			return strings.TrimRight(string(b[unix.SizeofRtAttr:l]), "\x00")
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return ""
}

// netlinkRequest sends one rtnetlink request and collects its answer (a
// dump up to NLMSG_DONE, or the single reply). The socket's receive
// timeout is the context's deadline, so a kernel that does not answer
// cannot hold the run.
func netlinkRequest(ctx context.Context, typ, flags uint16, body []byte) ([]syscall.NetlinkMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	wait := time.Second
	if dl, ok := ctx.Deadline(); ok {
		wait = max(time.Until(dl), time.Millisecond)
	}
	tv := unix.NsecToTimeval(wait.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("netlink timeout: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	const seq = 1
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|flags)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	msg = append(msg, body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink send: %w", err)
	}
	var out []syscall.NetlinkMessage
	buf := make([]byte, 1<<16)
	for range 10000 { // a dump of even a router's tables ends well before this
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.EAGAIN) {
				return out, fmt.Errorf("netlink: no answer within %s", wait)
			}
			return out, fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return out, fmt.Errorf("netlink parse: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
						return out, syscall.Errno(-code)
					}
				}
				return out, nil
			}
			// buf is reused by the next receive: keep a copy.
			m.Data = append([]byte(nil), m.Data...)
			out = append(out, m)
			if flags&unix.NLM_F_DUMP == 0 {
				return out, nil
			}
		}
	}
	return out, errors.New("netlink: answer too long")
}
