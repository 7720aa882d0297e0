//go:build windows

package probe

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows the interfaces come from GetAdaptersAddresses: adapter type,
// tunnel type and the description VPN clients give their adapters. Routes
// use the portable connected-socket lookup.
type windowsEnv struct{}

func newOSEnv() osEnv { return windowsEnv{} }

func (windowsEnv) interfaces(context.Context) ([]Interface, error) {
	var buf []byte
	size := uint32(15000)
	var err error
	for range 3 { // the list may grow between the size query and the call
		buf = make([]byte, size)
		err = windows.GetAdaptersAddresses(windows.AF_UNSPEC, windows.GAA_FLAG_INCLUDE_PREFIX, 0,
			(*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])), &size)
		if err != windows.ERROR_BUFFER_OVERFLOW {
			break
		}
	}
	if err != nil {
		ifs, perr := portableInterfaces()
		if perr != nil {
			return ifs, perr
		}
		return ifs, fmt.Errorf("GetAdaptersAddresses: %w (kinds from names only)", os.NewSyscallError("GetAdaptersAddresses", err))
	}
	var out []Interface
	for a := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])); a != nil; a = a.Next {
		facts := windowsAdapter{
			FriendlyName: windows.UTF16PtrToString(a.FriendlyName),
			Description:  windows.UTF16PtrToString(a.Description),
			IfType:       a.IfType,
			TunnelType:   a.TunnelType,
		}
		it := Interface{Name: facts.FriendlyName, Index: int(a.IfIndex), MTU: int(a.Mtu), Addrs: []string{},
			Up: a.OperStatus == windows.IfOperStatusUp, Running: a.OperStatus == windows.IfOperStatusUp}
		if it.Index == 0 {
			it.Index = int(a.Ipv6IfIndex)
		}
		it.Kind, it.VPN, it.VPNHow, it.OSType = classifyWindows(facts)
		if facts.Description != "" {
			it.OSType += ", " + facts.Description
		}
		for u := a.FirstUnicastAddress; u != nil; u = u.Next {
			ip, ok := netip.AddrFromSlice(u.Address.IP())
			if !ok {
				continue
			}
			it.Addrs = append(it.Addrs, netip.PrefixFrom(ip.Unmap(), int(u.OnLinkPrefixLength)).String())
		}
		out = append(out, it)
	}
	return out, nil
}

func (windowsEnv) route(_ context.Context, dst netip.Addr, ifs []Interface) (Route, error) {
	return routeByConnect(dst, ifs)
}

func (windowsEnv) defaultRoutes(_ context.Context, ifs []Interface) ([]Route, error) {
	return defaultRoutesByConnect(ifs), nil
}
