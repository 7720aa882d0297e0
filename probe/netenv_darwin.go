//go:build darwin

package probe

import (
	"context"
	"net/netip"
)

// On macOS the interfaces come from package net (flags tell a utun
// point-to-point tunnel); routes use the portable connected-socket lookup.
type darwinEnv struct{}

func newOSEnv() osEnv { return darwinEnv{} }

func (darwinEnv) interfaces(context.Context) ([]Interface, error) {
	ifs, err := portableInterfaces()
	for i := range ifs {
		if ifs[i].Kind == IfUnknown {
			// en* is Ethernet or Wi-Fi; telling them apart needs
			// SystemConfiguration. Say so instead of guessing.
			ifs[i].OSType = "ethernet or wireless (not told apart on macOS)"
		}
	}
	return ifs, err
}

func (darwinEnv) route(_ context.Context, dst netip.Addr, ifs []Interface) (Route, error) {
	return routeByConnect(dst, ifs)
}

func (darwinEnv) defaultRoutes(_ context.Context, ifs []Interface) ([]Route, error) {
	return defaultRoutesByConnect(ifs), nil
}
