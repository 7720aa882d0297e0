package probe

import (
	"fmt"
	"net"
	"strings"
)

// Interface classification from what each OS says about a device. The
// functions are portable and pure so every OS's rules are unit-tested on
// any machine; the OS files only collect the facts.

// linuxLink is what Linux says about a link: netlink's ifinfomsg type
// (ARPHRD_*), IFLA_INFO_KIND, flags, and sysfs' wireless marker.
type linuxLink struct {
	Name     string
	ARPHRD   uint16
	InfoKind string // "tun", "wireguard", "veth", "xfrm", ...
	Loopback bool
	Wireless bool // /sys/class/net/NAME/wireless or DEVTYPE=wlan
	DevType  string
}

// ARPHRD values (linux/if_arp.h) the classification uses.
const (
	arphrdEther     = 1
	arphrdPPP       = 512
	arphrdTunnel    = 768 // ipip
	arphrdTunnel6   = 769
	arphrdLoopback  = 772
	arphrdSit       = 776
	arphrdIPGRE     = 778
	arphrdIEEE80211 = 801
	arphrdIP6GRE    = 823
	arphrdNone      = 65534 // tun and wireguard: no link-layer header
)

// classifyLinux decides kind and VPN-ness, most telling fact first: the
// link kind the driver registered, then the hardware type, then the name.
func classifyLinux(l linuxLink) (kind InterfaceKind, vpn bool, how, osType string) {
	osType = l.InfoKind
	if osType == "" {
		osType = fmt.Sprintf("ARPHRD %d", l.ARPHRD)
	}
	if l.Loopback || l.ARPHRD == arphrdLoopback {
		return IfLoopback, false, "", osType
	}
	if kind, vpn, how, t, ok := classifyLinkKind(l, osType); ok {
		return kind, vpn, how, t
	}
	return classifyARPHRD(l, osType)
}

// needsSysfs says whether classifyLinux reads Wireless and DevType for l:
// only an Ethernet-typed link without a kind it knows; the others need not
// pay for reading sysfs.
func needsSysfs(l linuxLink) bool {
	if l.Loopback || l.ARPHRD != arphrdEther {
		return false
	}
	_, _, _, _, known := classifyLinkKind(l, l.InfoKind)
	return !known
}

// classifyLinkKind decides by IFLA_INFO_KIND; ok is false for a link
// without one it knows.
func classifyLinkKind(l linuxLink, osType string) (kind InterfaceKind, vpn bool, how, t string, ok bool) {
	switch l.InfoKind {
	case "tun":
		if l.ARPHRD == arphrdEther {
			return IfTunnel, true, "linux link kind tun (tap mode)", "tap", true
		}
		return IfTunnel, true, "linux link kind tun", "tun", true
	case "wireguard":
		return IfTunnel, true, "linux link kind wireguard", osType, true
	case "xfrm", "vti", "vti6":
		return IfTunnel, true, "linux ipsec interface (" + l.InfoKind + ")", osType, true
	case "ppp":
		return IfTunnel, true, "linux link kind ppp", osType, true
	case "ipip", "gre", "gretap", "ip6gre", "ip6gretap", "ip6tnl", "sit", "erspan", "ip6erspan":
		// Plain encapsulation between sites, not a client VPN.
		return IfTunnel, false, "", osType, true
	case "veth", "bridge", "vlan", "macvlan", "macvtap", "ipvlan", "ipvtap", "vxlan", "geneve",
		"dummy", "bond", "team", "ifb", "nlmon", "vrf", "netkit":
		return IfVirtual, false, "", osType, true
	}
	return IfUnknown, false, "", osType, false
}

// classifyARPHRD decides by the link type when the kind did not.
func classifyARPHRD(l linuxLink, osType string) (kind InterfaceKind, vpn bool, how, t string) {
	switch l.ARPHRD {
	case arphrdPPP:
		return IfTunnel, true, "linux type ppp (ARPHRD 512)", "ppp"
	case arphrdNone:
		// No link-layer header and no registered kind: a tun-like device
		// of an out-of-tree VPN driver.
		return IfTunnel, true, "linux type none (ARPHRD 65534, tun-like)", osType
	case arphrdTunnel, arphrdTunnel6, arphrdSit, arphrdIPGRE, arphrdIP6GRE:
		return IfTunnel, false, "", osType
	case arphrdIEEE80211, 802, 803:
		return IfWireless, false, "", osType
	case arphrdEther:
		if l.Wireless || l.DevType == "wlan" {
			return IfWireless, false, "", "wlan"
		}
		if l.InfoKind == "" && l.DevType == "" {
			if vpnByName(l.Name) {
				return IfEthernet, true, "name", osType
			}
			return IfEthernet, false, "", osType
		}
		return IfVirtual, false, "", osType
	}
	if vpnByName(l.Name) {
		return IfTunnel, true, "name", osType
	}
	return IfUnknown, false, "", osType
}

// windowsAdapter is what GetAdaptersAddresses says about an adapter.
type windowsAdapter struct {
	FriendlyName string
	Description  string
	IfType       uint32 // IANA ifType
	TunnelType   uint32
}

// IANA ifType and Windows TUNNEL_TYPE values the classification uses.
const (
	ifTypeEthernet    = 6
	ifTypePPP         = 23
	ifTypeLoopback    = 24
	ifTypePropVirtual = 53
	ifTypeIEEE80211   = 71
	ifTypeTunnel      = 131

	tunnelType6to4    = 11
	tunnelTypeISATAP  = 13
	tunnelTypeTeredo  = 14
	tunnelTypeIPHTTPS = 15
)

// vpnAdapterDescriptions are substrings of the adapter descriptions VPN
// clients install, with the product they stand for.
var vpnAdapterDescriptions = []struct{ match, product string }{
	{"wireguard", "WireGuard"},
	{"wintun", "Wintun (WireGuard, OpenVPN, Tailscale)"},
	{"tap-windows", "OpenVPN TAP-Windows"},
	{"tap-win32", "OpenVPN TAP-Win32"},
	{"openvpn", "OpenVPN"},
	{"anyconnect", "Cisco AnyConnect"},
	{"cisco secure client", "Cisco Secure Client"},
	{"cisco systems vpn", "Cisco VPN"},
	{"pangp", "Palo Alto GlobalProtect"},
	{"globalprotect", "Palo Alto GlobalProtect"},
	{"fortinet", "Fortinet FortiClient"},
	{"forticlient", "Fortinet FortiClient"},
	{"juniper", "Juniper/Pulse"},
	{"pulse secure", "Pulse Secure"},
	{"ivanti", "Ivanti Secure Access"},
	{"check point", "Check Point Endpoint VPN"},
	{"sonicwall", "SonicWall NetExtender"},
	{"f5 ", "F5 BIG-IP Edge"},
	{"zscaler", "Zscaler"},
	{"tailscale", "Tailscale"},
	{"zerotier", "ZeroTier"},
	{"nordlynx", "NordVPN"},
	{"sophos", "Sophos"},
	{"barracuda", "Barracuda"},
	{"array networks", "Array Networks"},
	{"wan miniport (ikev2)", "Windows IKEv2 VPN"},
	{"wan miniport (l2tp)", "Windows L2TP VPN"},
	{"wan miniport (pptp)", "Windows PPTP VPN"},
	{"wan miniport (sstp)", "Windows SSTP VPN"},
}

// virtualAdapterDescriptions are hypervisor and container adapters.
var virtualAdapterDescriptions = []string{"hyper-v", "virtualbox", "vmware", "vethernet", "docker", "wsl", "loopback adapter"}

// classifyWindows decides kind and VPN-ness of an adapter: the VPN
// vendors' adapter descriptions first (AnyConnect registers as plain
// Ethernet), then the interface and tunnel type, then the name.
func classifyWindows(a windowsAdapter) (kind InterfaceKind, vpn bool, how, osType string) {
	osType = fmt.Sprintf("IfType %d", a.IfType)
	if a.IfType == ifTypeLoopback {
		return IfLoopback, false, "", osType
	}
	desc := strings.ToLower(a.Description)
	for _, v := range vpnAdapterDescriptions {
		if strings.Contains(desc, v.match) {
			return IfTunnel, true, "windows adapter description: " + v.product, osType
		}
	}
	switch a.IfType {
	case ifTypePPP:
		return IfTunnel, true, "windows adapter type PPP (dial-up or built-in VPN)", osType
	case ifTypeTunnel:
		switch a.TunnelType {
		case tunnelType6to4, tunnelTypeISATAP, tunnelTypeTeredo:
			return IfTunnel, false, "", osType // IPv6 transition tunnels
		case tunnelTypeIPHTTPS:
			return IfTunnel, true, "windows IP-HTTPS tunnel (DirectAccess)", osType
		}
		return IfTunnel, true, "windows adapter type tunnel (IfType 131)", osType
	case ifTypeIEEE80211:
		return IfWireless, false, "", osType
	}
	for _, v := range virtualAdapterDescriptions {
		if strings.Contains(desc, v) {
			return IfVirtual, false, "", osType
		}
	}
	if a.IfType == ifTypePropVirtual {
		if vpnByName(a.FriendlyName) {
			return IfTunnel, true, "name", osType
		}
		return IfVirtual, false, "", osType
	}
	if vpnByName(a.FriendlyName) {
		return IfTunnel, true, "name", osType
	}
	if a.IfType == ifTypeEthernet {
		return IfEthernet, false, "", osType
	}
	return IfUnknown, false, "", osType
}

// classifyByFlags is for OSes where only package net's view is at hand
// (macOS, the BSDs, a Linux without netlink): flags first, then names.
// macOS VPN clients (built-in IKEv2/IPsec, WireGuard, Tailscale, AnyConnect,
// GlobalProtect) all use utun, ipsec or ppp point-to-point interfaces.
func classifyByFlags(name string, flags net.Flags) (kind InterfaceKind, vpn bool, how string) {
	p2p := flags&net.FlagPointToPoint != 0
	switch {
	case flags&net.FlagLoopback != 0:
		return IfLoopback, false, ""
	case hasPrefix(name, "utun", "ipsec", "ppp") && p2p:
		return IfTunnel, true, "point-to-point " + strings.TrimRight(name, "0123456789") + " interface"
	case hasPrefix(name, "gif", "stf"):
		return IfTunnel, false, "" // macOS generic and 6to4 tunnels
	case hasPrefix(name, "bridge", "vmenet", "vnic", "docker", "veth", "virbr", "vboxnet", "anpi"):
		return IfVirtual, false, ""
	case hasPrefix(name, "awdl", "llw", "wlan", "wlp", "wl"):
		return IfWireless, false, ""
	case vpnByName(name):
		return IfTunnel, true, "name"
	case p2p:
		return IfTunnel, false, ""
	}
	return IfUnknown, false, ""
}

// vpnByName is the last hint: names VPN software commonly gives its
// interfaces. A name alone is weak evidence and is marked as such.
func vpnByName(name string) bool {
	n := strings.ToLower(name)
	return hasPrefix(n, "tun", "tap", "utun", "ipsec", "ppp", "wg", "vpn", "tailscale", "zt", "nordlynx", "cscotun", "gpd", "fortissl") ||
		strings.Contains(n, "vpn")
}

func hasPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
