#!/usr/bin/env bash
# scripts/lab.sh: the ucprobe network-namespace lab. See scripts/lab/README.md.
#
#   scripts/lab.sh up | down | status | list | deps
#   scripts/lab.sh scenario NAME        (resets to clean first; NAME=list prints them)
#   scripts/lab.sh exec ROLE CMD...     (ROLE: client router inet server turn)
#
# Everything runs inside network namespaces named ${LAB_NS_PREFIX}ROLE
# (default ucl-client, ucl-router, ...). No namespace has a link to the
# root namespace and no route or NAT rule is ever added there.
#
# Environment:
#   LAB_DIR        state dir (pids, certs, configs, logs), default /tmp/ucprobe-lab
#   LAB_NS_PREFIX  namespace name prefix, default ucl-
#   UCPROBE_BIN    ucprobe binary for the responder; default: go build ./cmd/ucprobe
#   LAB_TTL        seconds after which the lab tears itself down, default 7200 (0: never)
#   LAB_LOSS_PCT   lossy-udp drop percentage per direction, default 5
set -euo pipefail

LAB_DIR=${LAB_DIR:-/tmp/ucprobe-lab}
LAB_DIR=${LAB_DIR%/}
NSP=${LAB_NS_PREFIX:-ucl-}
LAB_TTL=${LAB_TTL:-7200}
LAB_LOSS_PCT=${LAB_LOSS_PCT:-5}
SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
ROLES=(client router inet server turn)

# ---- address plan (keep in sync with scripts/lab/lab.go and README.md) ----
CLIENT_IP=10.10.0.10      # client eth0, LAN
ROUTER_LAN=10.10.0.1      # router lan0: gateway, DNS (dnsmasq), VPN endpoint (TCP 10443)
ROUTER_WAN=203.0.113.1    # router wan0: NAT address on the "internet" segment
SERVER_IP=203.0.113.10    # server: ucprobe serve (xphone.lab.example)
WSS_IP=203.0.113.20       # server: TLS + WebSocket 443 (ucconnect.lab.example)
UNTRUSTED_IP=203.0.113.21 # server: TLS 443, cert from a CA the client does not trust
WSPROXY_IP=203.0.113.22   # server: TLS 443 that refuses the WebSocket upgrade (403)
TURN_IP=203.0.113.30      # turn: coturn primary
TURN_IP2=203.0.113.31     # turn: coturn second address (RFC 5780 OTHER-ADDRESS)
TURN1_IP=203.0.113.32     # turn: a second coturn on this one address only (no RFC 5780), UDP/TCP 3478
ECHO_IP=203.0.113.40      # inet br0: echo host (UDP/STUN and TCP reflector for the lab's own tests)
SERVER_VPN_IP=192.0.2.10  # server int0: internal address, reachable only through the VPN
SERVER_DMZ_IP=198.51.100.10 # server dmz0: second network the router has no route for
VPN_CLIENT=172.16.99.2    # client tun0
VPN_ROUTER=172.16.99.1    # router vpn0
VPN_PORT=10443
TURN_USER=labuser
TURN_PASS=labpass
TURN_BAD_PASS=wrong-labpass
TURN_REALM=lab.example

SCENARIOS=(clean udp-drop udp-prohibited range-partial tcp-filtered tcp-closed vpn-no-udp vpn-down multi-homed
	multi-homed-sig-filtered symmetric-nat symmetric-nat-site-fw turn-bad-creds turn-blocked turn-ports-filtered slow-path
	dns-broken lossy-udp tls-untrusted ws-refused)

say() { printf 'lab: %s\n' "$*" >&2; }
die() {
	printf 'lab: error: %s\n' "$*" >&2
	exit 1
}
ns() { printf '%s%s' "$NSP" "$1"; }
nsx() {
	local role=$1
	shift
	ip netns exec "$(ns "$role")" "$@"
}
have_ns() { [[ -e /run/netns/$(ns "$1") ]]; }
need_root() { [[ $(id -u) == 0 ]] || die "must run as root (network namespaces)"; }

lock() {
	mkdir -p "$(dirname "$LAB_DIR")"
	exec 9>"$LAB_DIR.sh.lock"
	flock -w 120 9 || die "another lab.sh holds $LAB_DIR.sh.lock"
}

# ---------------------------------------------------------------- deps ----
deps() {
	local -A pkg=([turnserver]=coturn [dnsmasq]=dnsmasq-base [iptables]=iptables [nft]=nftables
		[ip]=iproute2 [ss]=iproute2 [openssl]=openssl [flock]=util-linux [setsid]=util-linux)
	local missing=() c
	for c in "${!pkg[@]}"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("${pkg[$c]}")
	done
	((${#missing[@]} == 0)) && return 0
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get"
	say "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
}

gobin() {
	if command -v go >/dev/null 2>&1; then
		command -v go
	elif [[ -x /usr/local/go/bin/go ]]; then
		echo /usr/local/go/bin/go
	else
		die "no go toolchain (PATH or /usr/local/go/bin)"
	fi
}

build() {
	local go
	go=$(gobin)
	mkdir -p "$LAB_DIR/bin"
	(cd "$REPO" && "$go" build -o "$LAB_DIR/bin/labd" ./scripts/lab/labd) || die "building labd failed"
	local bin=${UCPROBE_BIN:-}
	if [[ -z $bin ]]; then
		if [[ -d $REPO/cmd/ucprobe ]] &&
			(cd "$REPO" && "$go" build -o "$LAB_DIR/bin/ucprobe" ./cmd/ucprobe) >"$LAB_DIR/log/build-ucprobe.log" 2>&1; then
			bin=$LAB_DIR/bin/ucprobe
		fi
	elif [[ -x $bin ]]; then
		# `exec ROLE ucprobe ...` finds the given binary on LAB_DIR/bin too
		ln -sf "$(readlink -f "$bin")" "$LAB_DIR/bin/ucprobe"
	fi
	# The responder: `ucprobe serve` when the binary has it, else labd's stand-in.
	# (help text captured first: `| grep -q` under pipefail races with SIGPIPE)
	local help=""
	[[ -n $bin && -x $bin ]] && help=$("$bin" serve --help 2>&1) || help=""
	if [[ $help == *--udp* ]]; then
		echo "ucprobe $bin" >"$LAB_DIR/responder"
	else
		echo "standin $LAB_DIR/bin/labd" >"$LAB_DIR/responder"
	fi
}

# ----------------------------------------------------------------- PKI ----
SANS="DNS:xphone.lab.example,DNS:turn.lab.example,DNS:turn2.lab.example,DNS:ucconnect.lab.example,DNS:wsproxy.lab.example,DNS:multi.lab.example,DNS:xphone-vpn.lab.example,DNS:untrusted.lab.example,IP:$SERVER_IP,IP:$WSS_IP,IP:$UNTRUSTED_IP,IP:$WSPROXY_IP,IP:$TURN_IP,IP:$TURN_IP2,IP:$SERVER_VPN_IP,IP:$SERVER_DMZ_IP"

mkca() { # dir name cn
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-keyout "$1/$2.key" -out "$1/$2.pem" -subj "/O=ucprobe lab/CN=$3" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
mkleaf() { # dir ca name cn
	local d=$1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/$3.key" \
		-out "$d/$3.csr" -subj "/O=ucprobe lab/CN=$4" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
		"$SANS" >"$d/$3.ext"
	openssl x509 -req -in "$d/$3.csr" -CA "$d/$2.pem" -CAkey "$d/$2.key" -set_serial "0x$(openssl rand -hex 8)" \
		-days 29 -extfile "$d/$3.ext" -out "$d/$3.pem" 2>/dev/null
	rm -f "$d/$3.csr" "$d/$3.ext"
}
pki() {
	local d=$LAB_DIR/pki
	mkdir -p "$d"
	if [[ -s $d/server.pem ]] && openssl x509 -checkend 86400 -noout -in "$d/server.pem" >/dev/null 2>&1 &&
		[[ -s $d/untrusted.pem ]]; then
		return 0
	fi
	mkca "$d" ca "ucprobe lab CA"
	mkleaf "$d" ca server "lab.example"
	mkca "$d" untrusted-ca "Inspecting Proxy CA (not trusted by the lab client)"
	mkleaf "$d" untrusted-ca untrusted "lab.example"
	chmod 600 "$d"/*.key
	cp "$d/ca.pem" "$LAB_DIR/ca.pem"
}

# ------------------------------------------------------------- network ----
names_hosts() { # the static names dnsmasq serves (hosts format)
	cat <<EOF
$SERVER_IP xphone.lab.example
$TURN_IP turn.lab.example
$TURN_IP2 turn2.lab.example
$TURN1_IP turn1.lab.example
$WSS_IP ucconnect.lab.example
$UNTRUSTED_IP untrusted.lab.example
$WSPROXY_IP wsproxy.lab.example
$SERVER_IP multi.lab.example
$SERVER_DMZ_IP multi.lab.example
$SERVER_VPN_IP xphone-vpn.lab.example
$ECHO_IP echo.lab.example
$ROUTER_LAN router.lab.example
$CLIENT_IP client.lab.example
EOF
}

netns_add() {
	local role=$1 n
	n=$(ns "$role")
	ip netns add "$n"
	mkdir -p "/etc/netns/$n"
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$ROUTER_LAN" >"/etc/netns/$n/resolv.conf"
	nsx "$role" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	ip -n "$n" link set lo up
	# The responder's ICE agent takes ephemeral ports: keep them clear of the
	# media range 30000-33000 so that range-partial blocks only the sweep.
	[[ $role == server ]] && nsx "$role" sysctl -qw "net.ipv4.ip_local_port_range=40000 60999"
	return 0
}

net_up() {
	local r
	for r in "${ROLES[@]}"; do netns_add "$r"; done
	local C R I S T
	C=$(ns client) R=$(ns router) I=$(ns inet) S=$(ns server) T=$(ns turn)

	# LAN: client eth0 <-> router lan0
	ip -n "$C" link add eth0 type veth peer name lan0 netns "$R"
	ip -n "$C" addr add "$CLIENT_IP/24" dev eth0
	ip -n "$C" link set eth0 up
	ip -n "$C" route add default via "$ROUTER_LAN"
	ip -n "$R" addr add "$ROUTER_LAN/24" dev lan0
	ip -n "$R" link set lan0 up

	# "internet": a bridge in the inet namespace; its own address is the echo host
	ip -n "$I" link add br0 type bridge
	ip -n "$I" addr add "$ECHO_IP/24" dev br0
	ip -n "$I" link set br0 up
	ip -n "$R" link add wan0 type veth peer name p-router netns "$I"
	ip -n "$S" link add eth0 type veth peer name p-server netns "$I"
	ip -n "$T" link add eth0 type veth peer name p-turn netns "$I"
	for p in p-router p-server p-turn; do
		ip -n "$I" link set "$p" master br0 up
	done
	# slow-path: the router's port leaves the bridge and labd delay forwards
	# between it and dly0, whose peer dly1 sits in the bridge. Both stay down
	# outside slow-path (no learning, no stray frames); dly0 never does ARP.
	ip -n "$I" link add dly0 type veth peer name dly1
	ip -n "$I" link set dly1 master br0
	ip -n "$I" link set dly0 arp off
	ip -n "$R" addr add "$ROUTER_WAN/24" dev wan0
	ip -n "$R" link set wan0 up
	ip -n "$S" addr add "$SERVER_IP/24" dev eth0
	ip -n "$S" addr add "$WSS_IP/24" dev eth0
	ip -n "$S" addr add "$UNTRUSTED_IP/24" dev eth0
	ip -n "$S" addr add "$WSPROXY_IP/24" dev eth0
	ip -n "$S" link set eth0 up
	ip -n "$T" addr add "$TURN_IP/24" dev eth0
	ip -n "$T" addr add "$TURN_IP2/24" dev eth0
	ip -n "$T" addr add "$TURN1_IP/24" dev eth0
	ip -n "$T" link set eth0 up

	# server's other networks: veth pairs that stay inside the server namespace
	ip -n "$S" link add int0 type veth peer name int0p
	ip -n "$S" addr add "$SERVER_VPN_IP/24" dev int0
	ip -n "$S" link add dmz0 type veth peer name dmz0p
	ip -n "$S" addr add "$SERVER_DMZ_IP/24" dev dmz0
	for l in int0 int0p dmz0 dmz0p; do ip -n "$S" link set "$l" up; done

	# router: forwarding; the internal network 192.0.2.0/24 via the server;
	# NO route for 198.51.100.0/24 and NO default route (-> ICMP net unreachable)
	nsx router sysctl -qw net.ipv4.ip_forward=1
	ip -n "$R" route add 192.0.2.0/24 via "$SERVER_IP" dev wan0

	# VPN tun devices (persistent; labd attaches to them)
	ip -n "$C" tuntap add dev tun0 mode tun
	ip -n "$C" link set tun0 mtu 1400 up
	ip -n "$C" addr add "$VPN_CLIENT" peer "$VPN_ROUTER" dev tun0
	ip -n "$C" route add 192.0.2.0/24 dev tun0 src "$VPN_CLIENT"
	ip -n "$R" tuntap add dev vpn0 mode tun
	ip -n "$R" link set vpn0 mtu 1400 up
	ip -n "$R" addr add "$VPN_ROUTER" peer "$VPN_CLIENT" dev vpn0
	for r in router server turn client; do
		nsx "$r" sh -c 'for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 >"$f"; done'
	done

	# router firewall + NAT. The scenario_* chains are what `scenario` rewrites.
	nsx router nft -f - <<EOF
table inet lab {
	chain scenario_in {
	}
	chain scenario_fwd {
	}
	chain input {
		type filter hook input priority filter; policy accept;
		jump scenario_in
		iifname "wan0" ct state established,related accept
		iifname "wan0" icmp type echo-request accept
		iifname "wan0" drop
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		jump scenario_fwd
		ct state established,related accept
		iifname "lan0" ip daddr 192.0.2.0/24 reject with icmp type net-unreachable
		iifname { "lan0", "vpn0" } oifname "wan0" accept
		counter reject with icmp type admin-prohibited
	}
}
table ip labnat {
	chain scenario_dnat {
	}
	chain scenario_snat {
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump scenario_dnat
		# ucconnect.lab.example is a whole UCConnect: TLS + WebSocket on the
		# server, STUN/TURN 3478 (UDP and TCP) by coturn behind the same address
		iifname { "lan0", "vpn0" } ip daddr $WSS_IP meta l4proto { udp, tcp } th dport 3478 counter dnat to $TURN_IP
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" jump scenario_snat
		oifname "wan0" masquerade
	}
}
EOF
	# server host firewall: empty in clean; tcp-closed (a closed port answers
	# RST) and symmetric-nat-site-fw (the XPhone site firewall) fill scenario_in
	nsx server nft -f - <<EOF
table inet labsrv {
	chain scenario_in {
	}
	chain input {
		type filter hook input priority filter; policy accept;
		jump scenario_in
	}
}
EOF
}

# ------------------------------------------------------------- daemons ----
# start NAME ROLE CMD...: runs CMD in ROLE's namespace in its own session,
# output to log/NAME.log, pid to run/NAME.pid.
start() {
	local name=$1 role=$2
	shift 2
	setsid ip netns exec "$(ns "$role")" "$@" >"$LAB_DIR/log/$name.log" 2>&1 </dev/null 9>&- &
	echo $! >"$LAB_DIR/run/$name.pid"
}

alive() { # NAME
	local f=$LAB_DIR/run/$1.pid pid
	[[ -s $f ]] || return 1
	pid=$(<"$f")
	[[ -d /proc/$pid ]] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}

wait_listen() { # ROLE ss-filter-args... : up to 5 s
	local role=$1 i
	shift
	for ((i = 0; i < 100; i++)); do
		[[ -n $(nsx "$role" ss -Hln "$@" 2>/dev/null) ]] && return 0
		sleep 0.05
	done
	return 1
}

start_dnsmasq() {
	start dnsmasq router dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--addn-hosts="$LAB_DIR/dns/hosts" --local=/lab.example/ --listen-address="$ROUTER_LAN" \
		--bind-interfaces --pid-file= --user=root --group=root --cache-size=0 --local-ttl=0 \
		--log-queries --log-facility="$LAB_DIR/log/dnsmasq-queries.log"
	wait_listen router -u "( sport = :53 )" || die "dnsmasq did not start (log/dnsmasq.log)"
}

write_hosts() { # extra lines appended (scenario overrides)
	{
		names_hosts
		printf '%s' "${1:-}"
	} >"$LAB_DIR/dns/hosts.new"
	mv "$LAB_DIR/dns/hosts.new" "$LAB_DIR/dns/hosts"
	if alive dnsmasq; then kill -HUP "$(<"$LAB_DIR/run/dnsmasq.pid")"; fi
}

lifetime() { # how long each labd server lives (LAB_TTL + 1 min; 0: forever)
	if ((LAB_TTL == 0)); then echo 0s; else echo "$((LAB_TTL + 60))s"; fi
}

start_vpn_client() { # start the VPN client (tun0); do not wait
	start vpn-client client "$LAB_DIR/bin/labd" vpn client --connect "$ROUTER_LAN:$VPN_PORT" --tun tun0 \
		--lifetime "$(lifetime)"
}

vpn_connected() { [[ -n $(nsx client ss -Htn state established "( dport = :$VPN_PORT )" 2>/dev/null) ]]; }

wait_vpn() { # up to 5 s for the VPN client's TCP connection
	local i
	for ((i = 0; i < 100; i++)); do
		vpn_connected && return 0
		sleep 0.05
	done
	return 1
}

stop_vpn_client() { stop_daemon vpn-client; } # the user "disconnects" the VPN: the client exits, tun0 stays (NO-CARRIER)

stop_daemon() { # NAME: TERM, up to 2 s, then KILL; forget its pid
	local f=$LAB_DIR/run/$1.pid pid i
	[[ -s $f ]] || return 0
	pid=$(<"$f")
	kill_group TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		alive "$1" || break
		sleep 0.02
	done
	alive "$1" && kill_group KILL "$pid"
	rm -f "$f"
}

# slow_path: a few hundred ms of round trip with jitter of the same order
# between the site and the internet (each way 50 ms + 0..250 ms), by labd
# delay bridging the router's port and the internet bridge in userspace.
# Offloads off first: a userspace bridge must see finished frames.
slow_path() {
	local r i
	for r in "router wan0" "server eth0" "turn eth0" "inet br0 p-router p-server p-turn dly0 dly1"; do
		# shellcheck disable=SC2086
		nsx ${r%% *} "$LAB_DIR/bin/labd" nooffload ${r#* } || die "nooffload $r failed"
	done
	ip -n "$(ns inet)" link set p-router nomaster
	ip -n "$(ns inet)" link set dly0 up
	ip -n "$(ns inet)" link set dly1 up
	start delay inet "$LAB_DIR/bin/labd" delay --a p-router --b dly0 --delay "${LAB_DELAY:-50ms}" --jitter "${LAB_JITTER:-250ms}" \
		--lifetime "$(lifetime)"
	for ((i = 0; i < 100; i++)); do
		grep -q 'delay: p-router' "$LAB_DIR/log/delay.log" 2>/dev/null && return 0
		sleep 0.02
	done
	die "labd delay did not start (log/delay.log)"
}

start_all() {
	local labd=$LAB_DIR/bin/labd pki=$LAB_DIR/pki life
	life=$(lifetime)

	write_hosts
	start_dnsmasq

	start vpn-server router "$labd" vpn server --listen "$ROUTER_LAN:$VPN_PORT" --tun vpn0 --lifetime "$life"
	wait_listen router -t "( sport = :$VPN_PORT )" || die "vpn server did not start (log/vpn-server.log)"
	start_vpn_client

	mkdir -p "$LAB_DIR/turn"
	# Peers only on the internet segment, the one network coturn can reach:
	# coturn tears down a whole allocation when a send to a peer fails (no
	# route), so a permission for an unroutable address (the client LAN, the
	# VPN, the server's internal networks) must be refused instead.
	start turnserver turn turnserver -n --no-cli --lt-cred-mech --user "$TURN_USER:$TURN_PASS" --realm "$TURN_REALM" \
		-L "$TURN_IP" -L "$TURN_IP2" --listening-port 3478 --tls-listening-port 5349 \
		--cert "$pki/server.pem" --pkey "$pki/server.key" --min-port 49152 --max-port 49999 \
		--no-multicast-peers --denied-peer-ip=0.0.0.0-255.255.255.255 \
		--allowed-peer-ip=203.0.113.0-203.0.113.255 \
		--db "$LAB_DIR/turn/turndb" --pidfile "$LAB_DIR/turn/turnserver.pid" \
		--log-file "$LAB_DIR/log/turnserver-detail.log" --simple-log --no-stdout-log --fingerprint

	# A site's usual STUN/TURN server: one public address, so no RFC 5780;
	# helpdesk mode learns the NAT's mapping through its relay instead.
	start turnserver1 turn turnserver -n --no-cli --lt-cred-mech --user "$TURN_USER:$TURN_PASS" --realm "$TURN_REALM" \
		-L "$TURN1_IP" --listening-port 3478 --no-tls --no-dtls --min-port 50000 --max-port 50999 \
		--no-multicast-peers --denied-peer-ip=0.0.0.0-255.255.255.255 \
		--allowed-peer-ip=203.0.113.0-203.0.113.255 \
		--db "$LAB_DIR/turn/turndb1" --pidfile "$LAB_DIR/turn/turnserver1.pid" \
		--log-file "$LAB_DIR/log/turnserver1-detail.log" --simple-log --no-stdout-log --fingerprint

	local kind bin
	read -r kind bin <"$LAB_DIR/responder"
	if [[ $kind == ucprobe ]]; then
		# The ICE peer gathers with (and offers) coturn, so the two-ended check
		# has relay candidates; the TURN password goes by environment only.
		local ice=()
		local help
		help=$("$bin" serve --help 2>&1) || true
		if [[ $help == *--ice-server* ]]; then
			ice=(--ice-server "stun:$TURN_IP:3478" --ice-server "turn:$TURN_IP:3478?transport=udp")
		fi
		# As a field tech runs it: a token (by file, never on the command line)
		# and HTTPS with the lab's server certificate, which the client
		# trusts through --ca-file (the lab CA).
		local safe=()
		if [[ $help == *--token-file* ]]; then
			[[ -s $LAB_DIR/responder.token ]] || (umask 077 && openssl rand -hex 16 >"$LAB_DIR/responder.token")
			safe=(--token-file "$LAB_DIR/responder.token" --tls-cert "$pki/server.pem" --tls-key "$pki/server.key")
		fi
		UCPROBE_TURN_USER=$TURN_USER UCPROBE_TURN_PASS=$TURN_PASS \
			start responder server "$bin" serve --udp 30000-33000,3478 --tcp 2230,7222 --http :8480 "${safe[@]}" "${ice[@]}"
	else
		say "ucprobe serve not available: starting labd STAND-IN responder (TCP 2230/7222, UDP STUN echo)"
		start responder server "$labd" standin --udp 30000-33000,3478 --tcp 2230,7222 --http :8480 --lifetime "$life"
	fi

	start echo inet "$labd" standin --bind "$ECHO_IP" --udp 30000-33000,3478 --tcp 2230,7222 --http "" --lifetime "$life"

	start wss server "$labd" wss --listen "$WSS_IP:443" --cert "$pki/server.pem" --key "$pki/server.key" \
		--name ucconnect --lifetime "$life"
	start wss-untrusted server "$labd" wss --listen "$UNTRUSTED_IP:443" --cert "$pki/untrusted.pem" \
		--key "$pki/untrusted.key" --name untrusted --lifetime "$life"
	start wss-refuse server "$labd" wss --listen "$WSPROXY_IP:443" --cert "$pki/server.pem" \
		--key "$pki/server.key" --refuse-upgrade --name labproxy --lifetime "$life"

	wait_listen turn -u "( sport = :3478 )" || die "turnserver did not start (log/turnserver*.log)"
	wait_listen turn -t "( sport = :5349 )" || die "turnserver TLS did not start (log/turnserver*.log)"
	wait_listen turn -u "( src $TURN1_IP and sport = :3478 )" || die "turnserver1 did not start (log/turnserver1*.log)"
	wait_listen server -t "( sport = :2230 )" || die "responder did not start (log/responder.log)"
	wait_listen server -t "( sport = :443 )" || die "wss did not start (log/wss*.log)"
	wait_listen inet -t "( sport = :7222 )" || die "echo host did not start (log/echo.log)"
	wait_vpn || die "vpn client did not connect (log/vpn-client.log)"

	if ((LAB_TTL > 0)); then
		setsid bash -c 'sleep "$1" & wait; exec "$2" down' lab-ttl "$LAB_TTL" "$SELF" \
			>"$LAB_DIR/log/watchdog.log" 2>&1 </dev/null 9>&- &
		echo $! >"$LAB_DIR/run/watchdog.pid"
	fi
}

DAEMONS=(dnsmasq vpn-server vpn-client turnserver turnserver1 responder echo wss wss-untrusted wss-refuse)

is_up() {
	local r d
	[[ -f $LAB_DIR/.ucprobe-lab ]] || return 1
	for r in "${ROLES[@]}"; do have_ns "$r" || return 1; done
	for d in "${DAEMONS[@]}"; do
		# in vpn-down the VPN client is stopped on purpose
		[[ $d == vpn-client && $(cat "$LAB_DIR/scenario" 2>/dev/null) == vpn-down ]] && continue
		alive "$d" || return 1
	done
}

write_env() {
	cat >"$LAB_DIR/turn.env" <<EOF
UCPROBE_TURN_USER=$TURN_USER
UCPROBE_TURN_PASS=$TURN_PASS
UCPROBE_TURN_REALM=$TURN_REALM
UCPROBE_TURN_BAD_PASS=$TURN_BAD_PASS
EOF
	chmod 600 "$LAB_DIR/turn.env"
	cat >"$LAB_DIR/lab.env" <<EOF
LAB_DIR=$LAB_DIR
LAB_NS_PREFIX=$NSP
LAB_CA=$LAB_DIR/ca.pem
LAB_LABD=$LAB_DIR/bin/labd
LAB_CLIENT_IP=$CLIENT_IP
LAB_ROUTER_LAN=$ROUTER_LAN
LAB_ROUTER_WAN=$ROUTER_WAN
LAB_SERVER_IP=$SERVER_IP
LAB_WSS_IP=$WSS_IP
LAB_UNTRUSTED_IP=$UNTRUSTED_IP
LAB_WSPROXY_IP=$WSPROXY_IP
LAB_TURN_IP=$TURN_IP
LAB_TURN_IP2=$TURN_IP2
LAB_TURN1_IP=$TURN1_IP
LAB_ECHO_IP=$ECHO_IP
LAB_SERVER_VPN_IP=$SERVER_VPN_IP
LAB_SERVER_DMZ_IP=$SERVER_DMZ_IP
LAB_VPN_CLIENT=$VPN_CLIENT
LAB_VPN_ROUTER=$VPN_ROUTER
LAB_RESPONDER=$(cut -d' ' -f1 "$LAB_DIR/responder")
EOF
}

cmd_up() {
	need_root
	lock
	if is_up; then
		say "already up ($LAB_DIR, scenario $(cat "$LAB_DIR/scenario" 2>/dev/null || echo '?'))"
		return 0
	fi
	local t0=$SECONDS
	if [[ -d $LAB_DIR && ! -f $LAB_DIR/.ucprobe-lab ]] && [[ -n $(ls -A "$LAB_DIR") ]]; then
		die "$LAB_DIR exists and is not a lab state dir (no .ucprobe-lab): choose another LAB_DIR"
	fi
	teardown quiet # a half-started lab: start over
	deps
	mkdir -p "$LAB_DIR"/{run,log,dns,bin}
	touch "$LAB_DIR/.ucprobe-lab"
	build
	pki
	net_up
	start_all
	write_env
	apply_scenario clean
	say "up in $((SECONDS - t0))s: responder $(cut -d' ' -f1 "$LAB_DIR/responder"), state in $LAB_DIR"
}

# ---------------------------------------------------------------- down ----
kill_group() { # SIG pid: the pid, or its whole process group when it leads one (setsid)
	local sig=$1 pid=$2 pgrp
	[[ $pid =~ ^[0-9]+$ ]] && [[ -d /proc/$pid ]] || return 0
	pgrp=$(awk '{print $5}' "/proc/$pid/stat" 2>/dev/null || true)
	if [[ $pgrp == "$pid" ]]; then
		kill "-$sig" -- "-$pid" 2>/dev/null || true
	else
		kill "-$sig" "$pid" 2>/dev/null || true
	fi
}

teardown() {
	local quiet=${1:-} f pid r i left
	if [[ -d $LAB_DIR/run ]]; then
		for f in "$LAB_DIR"/run/*.pid; do
			[[ -e $f ]] || continue
			pid=$(<"$f")
			[[ $pid == "$$" ]] && continue # the watchdog exec'd into this down
			kill_group TERM "$pid"
		done
		for ((i = 0; i < 40; i++)); do
			left=0
			for f in "$LAB_DIR"/run/*.pid; do
				[[ -e $f ]] || continue
				pid=$(<"$f")
				[[ $pid != "$$" && -d /proc/$pid ]] && left=1
			done
			((left)) || break
			sleep 0.05
		done
		for f in "$LAB_DIR"/run/*.pid; do
			[[ -e $f ]] || continue
			pid=$(<"$f")
			if [[ $pid != "$$" ]]; then kill_group KILL "$pid"; fi
		done
	fi
	# Anything else still running inside our namespaces (e.g. a test's
	# `exec` left behind) was started in them by us: end it by pid.
	for r in "${ROLES[@]}"; do
		have_ns "$r" || continue
		for pid in $(ip netns pids "$(ns "$r")" 2>/dev/null); do
			[[ $pid == "$$" ]] || kill -KILL "$pid" 2>/dev/null || true
		done
	done
	for r in "${ROLES[@]}"; do
		if have_ns "$r"; then ip netns del "$(ns "$r")" 2>/dev/null || true; fi
		rm -rf "/etc/netns/$(ns "$r")"
	done
	if [[ -d $LAB_DIR ]]; then
		if [[ -f $LAB_DIR/.ucprobe-lab ]]; then
			rm -rf "$LAB_DIR"
		elif [[ -z $quiet ]]; then
			say "not removing $LAB_DIR: no .ucprobe-lab marker"
		fi
	fi
}

cmd_down() {
	need_root
	lock
	local t0=$SECONDS
	teardown
	say "down in $((SECONDS - t0))s"
}

# ----------------------------------------------------------- scenarios ----
reset_clean() {
	nsx router nft -f - <<EOF
flush chain inet lab scenario_in
flush chain inet lab scenario_fwd
flush chain ip labnat scenario_dnat
flush chain ip labnat scenario_snat
EOF
	nsx server nft flush chain inet labsrv scenario_in
	ip -n "$(ns client)" route del 203.0.113.0/24 dev tun0 2>/dev/null || true
	ip -n "$(ns router)" route del blackhole "$SERVER_DMZ_IP/32" 2>/dev/null || true
	if alive delay || [[ $(ip -n "$(ns inet)" -o link show p-router) != *"master br0"* ]]; then
		# leaving slow-path: the bridge and the neighbours forget the detour
		stop_daemon delay
		ip -n "$(ns inet)" link set dly1 down
		ip -n "$(ns inet)" link set dly0 down
		ip -n "$(ns inet)" link set p-router master br0
		ip -n "$(ns inet)" neigh flush all
		ip -n "$(ns router)" neigh flush dev wan0
		ip -n "$(ns server)" neigh flush dev eth0
		ip -n "$(ns turn)" neigh flush dev eth0
	fi
	if ! alive dnsmasq; then start_dnsmasq; fi
	if ! alive vpn-client; then
		start_vpn_client
		wait_vpn || die "vpn client did not reconnect (log/vpn-client.log)"
	fi
	write_hosts
	nsx router "$LAB_DIR/bin/labd" ctflush || say "warning: conntrack flush failed in router"
	nsx server "$LAB_DIR/bin/labd" ctflush || true
}

router_nft() { nsx router nft -f -; }

# server_site_fw: the XPhone server network's firewall (seed 003): inbound
# on eth0 only the media range and STUN (UDP 30000-33000, 3478) and the
# signalling/web ports (TCP 2230, 7222, 8480, 443), plus established/related.
# The responder's ICE agent gathers on ephemeral ports (40000-60999 here),
# so its host candidate gets nothing unsolicited. reset_clean flushes it.
server_site_fw() {
	nsx server nft -f - <<'EOF'
add rule inet labsrv scenario_in iifname != "eth0" accept
add rule inet labsrv scenario_in ct state established,related accept
add rule inet labsrv scenario_in udp dport { 3478, 30000-33000 } counter accept
add rule inet labsrv scenario_in tcp dport { 443, 2230, 7222, 8480 } counter accept
add rule inet labsrv scenario_in icmp type echo-request accept
add rule inet labsrv scenario_in counter drop
EOF
}

apply_scenario() {
	local name=$1 pass=$TURN_PASS
	reset_clean
	case $name in
	clean) ;;
	udp-drop) # every UDP packet through the router is dropped, both directions
		echo 'add rule inet lab scenario_fwd meta l4proto udp counter drop' | router_nft ;;
	udp-prohibited) # outbound UDP rejected with ICMP type 3 code 13 (communication administratively prohibited)
		echo 'add rule inet lab scenario_fwd oifname "wan0" meta l4proto udp counter reject with icmp type admin-prohibited' | router_nft ;;
	range-partial) # UDP 31000-33000 of the media range 30000-33000 dropped outbound
		echo 'add rule inet lab scenario_fwd oifname "wan0" udp dport 31000-33000 counter drop' | router_nft ;;
	tcp-filtered) # TCP 2230 silently dropped outbound (7222 still open)
		echo 'add rule inet lab scenario_fwd oifname "wan0" tcp dport 2230 counter drop' | router_nft ;;
	tcp-closed) # the server host answers TCP 2230 with RST, as when nothing listens
		echo 'add rule inet labsrv scenario_in tcp dport 2230 counter reject with tcp reset' | nsx server nft -f - ;;
	vpn-no-udp) # the server's network is routed through tun0 (the VPN drops UDP); the direct path is closed
		ip -n "$(ns client)" route replace 203.0.113.0/24 dev tun0 src "$VPN_CLIENT"
		echo 'add rule inet lab scenario_fwd iifname "lan0" ip daddr 203.0.113.0/24 counter drop' | router_nft ;;
	vpn-down) # the VPN client is stopped (user disconnected): tun0 has no carrier, 192.0.2.0/24 still points into it
		stop_vpn_client ;;
	multi-homed) # xphone.lab.example also gets the unrouted address (multi.lab.example always has both)
		write_hosts "$SERVER_DMZ_IP xphone.lab.example"$'\n' ;;
	multi-homed-sig-filtered) # multi-homed, but the second address is silent (a blackhole route: no ICMP) and TCP 2230 is dropped to both
		write_hosts "$SERVER_DMZ_IP xphone.lab.example"$'\n'"$SERVER_DMZ_IP echo.lab.example"$'\n'
		ip -n "$(ns router)" route add blackhole "$SERVER_DMZ_IP/32"
		echo 'add rule inet lab scenario_fwd oifname "wan0" tcp dport 2230 counter drop' | router_nft ;;
	symmetric-nat) # a random source port per new flow: mapping depends on the destination
		echo 'add rule ip labnat scenario_snat counter masquerade fully-random' | router_nft ;;
	symmetric-nat-site-fw) # symmetric-nat, and the server site's firewall opens only the XPhone ports
		echo 'add rule ip labnat scenario_snat counter masquerade fully-random' | router_nft
		server_site_fw ;;
	turn-bad-creds) # the network is clean; scenario.env hands out the wrong TURN password
		pass=$TURN_BAD_PASS ;;
	turn-blocked) # the site firewall drops everything to the TURN server (both addresses); the responder is reachable
		echo "add rule inet lab scenario_fwd oifname \"wan0\" ip daddr { $TURN_IP, $TURN_IP2 } counter drop" | router_nft ;;
	slow-path) # every frame between the site and the internet held 50 ms + 0..250 ms each way
		slow_path ;;
	turn-ports-filtered) # only the TURN server's ports are dropped; the host still answers (RST) on others
		echo "add rule inet lab scenario_fwd oifname \"wan0\" ip daddr { $TURN_IP, $TURN_IP2 } meta l4proto { udp, tcp } th dport { 3478, 3479, 5349, 5350 } counter drop" | router_nft ;;
	dns-broken) # the LAN resolver (router) drops every DNS query: lookups time out
		echo 'add rule inet lab scenario_in iifname { "lan0", "vpn0" } meta l4proto { udp, tcp } th dport 53 counter drop' | router_nft ;;
	lossy-udp) # random drop of LAB_LOSS_PCT % of UDP packets in each direction
		echo "add rule inet lab scenario_fwd meta l4proto udp numgen random mod 100 < $LAB_LOSS_PCT counter drop" | router_nft ;;
	tls-untrusted) # TLS to ucconnect:443 is intercepted by a proxy whose CA the client does not trust
		echo "add rule ip labnat scenario_dnat iifname { \"lan0\", \"vpn0\" } ip daddr $WSS_IP tcp dport 443 counter dnat to $UNTRUSTED_IP" | router_nft ;;
	ws-refused) # ucconnect:443 goes through a proxy that completes TLS but refuses the WebSocket upgrade
		echo "add rule ip labnat scenario_dnat iifname { \"lan0\", \"vpn0\" } ip daddr $WSS_IP tcp dport 443 counter dnat to $WSPROXY_IP" | router_nft ;;
	*) die "unknown scenario $name (try: ${SCENARIOS[*]})" ;;
	esac
	echo "$name" >"$LAB_DIR/scenario"
	cat >"$LAB_DIR/scenario.env" <<EOF
LAB_SCENARIO=$name
UCPROBE_TURN_USER=$TURN_USER
UCPROBE_TURN_PASS=$pass
EOF
	chmod 600 "$LAB_DIR/scenario.env"
}

cmd_scenario() {
	local name=${1:-}
	if [[ -z $name || $name == list ]]; then
		printf '%s\n' "${SCENARIOS[@]}"
		return 0
	fi
	need_root
	lock
	is_up || die "lab is not up (scripts/lab.sh up)"
	local t0=$EPOCHREALTIME
	apply_scenario "$name"
	say "scenario $name ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')s)"
}

# --------------------------------------------------------- exec/status ----
cmd_exec() {
	(($# >= 2)) || die "usage: lab.sh exec ROLE CMD..."
	local role=$1
	shift
	[[ " ${ROLES[*]} " == *" $role "* ]] || die "unknown role $role (roles: ${ROLES[*]})"
	have_ns "$role" || die "namespace $(ns "$role") does not exist (scripts/lab.sh up)"
	exec ip netns exec "$(ns "$role")" env PATH="$LAB_DIR/bin:$PATH" "$@"
}

cmd_status() {
	local r d pid st
	echo "state dir: $LAB_DIR"
	for r in "${ROLES[@]}"; do
		if have_ns "$r"; then st=present; else st=absent; fi
		printf '  netns %-14s %s\n' "$(ns "$r")" "$st"
	done
	for d in "${DAEMONS[@]}" watchdog; do
		pid=$(cat "$LAB_DIR/run/$d.pid" 2>/dev/null || true)
		if alive "$d"; then st="running pid $pid"; elif [[ -n $pid ]]; then st="DEAD (pid $pid)"; else st="not started"; fi
		printf '  %-14s %s\n' "$d" "$st"
	done
	[[ -f $LAB_DIR/responder ]] && echo "responder: $(cut -d' ' -f1 "$LAB_DIR/responder")"
	echo "scenario: $(cat "$LAB_DIR/scenario" 2>/dev/null || echo none)"
	if is_up; then echo "lab: up"; else
		echo "lab: down"
		return 3
	fi
}

cmd_list() {
	cat <<EOF
roles (network namespaces, prefix $NSP): ${ROLES[*]}

name                     address          where / what
xphone.lab.example       $SERVER_IP     server: responder (ucprobe serve or stand-in) UDP 30000-33000,3478 TCP 2230,7222 HTTP 8480
turn.lab.example         $TURN_IP     turn: coturn UDP/TCP 3478, TLS/DTLS 5349 (user $TURN_USER, realm $TURN_REALM)
turn2.lab.example        $TURN_IP2     turn: coturn second address (RFC 5780 OTHER-ADDRESS)
turn1.lab.example        $TURN1_IP     turn: a second coturn on one address (no RFC 5780), UDP/TCP 3478
ucconnect.lab.example    $WSS_IP     server: TLS + WebSocket 443 (lab CA)
untrusted.lab.example    $UNTRUSTED_IP     server: TLS 443, certificate from an untrusted CA
wsproxy.lab.example      $WSPROXY_IP     server: TLS 443, refuses the WebSocket upgrade (403, Via: 1.1 labproxy)
multi.lab.example        $SERVER_IP     server (routed)
multi.lab.example        $SERVER_DMZ_IP    server dmz0: not routed by the router (ICMP net unreachable)
xphone-vpn.lab.example   $SERVER_VPN_IP       server int0: internal, only through the VPN (tun0)
echo.lab.example         $ECHO_IP     inet: echo host, UDP 30000-33000,3478 (STUN answer/echo), TCP 2230,7222
router.lab.example       $ROUTER_LAN        router LAN: gateway, DNS, VPN TCP $VPN_PORT
client.lab.example       $CLIENT_IP       client eth0

client tun0 $VPN_CLIENT <-> router vpn0 $VPN_ROUTER (TCP $ROUTER_LAN:$VPN_PORT, UDP dropped)
router WAN / NAT address $ROUTER_WAN; CA for --ca-file: $LAB_DIR/ca.pem; TURN credentials: $LAB_DIR/turn.env
scenarios: ${SCENARIOS[*]}
EOF
}

main() {
	local cmd=${1:-}
	(($#)) && shift
	case $cmd in
	up) cmd_up ;;
	down) cmd_down ;;
	scenario) cmd_scenario "$@" ;;
	exec) cmd_exec "$@" ;;
	status) cmd_status ;;
	list) cmd_list ;;
	deps)
		need_root
		deps
		;;
	*)
		sed -n '2,/^set -euo/p' "$SELF" | sed '$d' | sed 's/^# \{0,1\}//'
		[[ -z $cmd || $cmd == help || $cmd == -h || $cmd == --help ]] || exit 2
		;;
	esac
}

main "$@"
