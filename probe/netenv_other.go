//go:build !linux && !windows && !darwin

package probe

import (
	"context"
	"net/netip"
)

// The portable fallback: package net's interfaces (kinds from flags and
// names) and routes from connected UDP sockets.
type otherEnv struct{}

func newOSEnv() osEnv { return otherEnv{} }

func (otherEnv) interfaces(context.Context) ([]Interface, error) { return portableInterfaces() }

func (otherEnv) route(_ context.Context, dst netip.Addr, ifs []Interface) (Route, error) {
	return routeByConnect(dst, ifs)
}

func (otherEnv) defaultRoutes(_ context.Context, ifs []Interface) ([]Route, error) {
	return defaultRoutesByConnect(ifs), nil
}
