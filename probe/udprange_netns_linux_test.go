//go:build linux

package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/probe/responder"
)

// The sweep against real nft faults: each case runs in a network namespace
// of its own (created here, removed after), where the responder serves
// 30000-33000 on loopback and nft drops part of the traffic. The sweep
// runs in a child process started inside the namespace (a goroutine's
// sockets cannot be pinned to a namespace: net/http dials from its own
// goroutines).

const netnsChildEnv = "UCPROBE_SWEEP_NETNS_CHILD"

func TestUDPRangeNetnsFaults(t *testing.T) {
	probetest.NeedRoot(t)
	probetest.NeedBinary(t, "ip", "iproute2")
	probetest.NeedBinary(t, "nft", "nftables")
	cases := []struct {
		name  string
		rules string // nft rules of the input chain
		check func(t *testing.T, res Result, d *UDPRangeDetails)
	}{
		{"31000-33000 dropped on the way in", "udp dport 31000-33000 drop", func(t *testing.T, res Result, d *UDPRangeDetails) {
			want := []UDPSubRange{
				{Range: PortRange{First: 30000, Last: 30999}, State: PortOpen, Ports: 1000},
				{Range: PortRange{First: 31000, Last: 33000}, State: PortFiltered, Direction: DirInbound, Ports: 2001},
			}
			if fmt.Sprint(d.SubRanges) != fmt.Sprint(want) || d.Open != 1000 || d.Filtered != 2001 || !d.Receipts {
				t.Errorf("sub-ranges %+v (open %d filtered %d receipts %v), want %+v", d.SubRanges, d.Open, d.Filtered, d.Receipts, want)
			}
			if res.Status != StatusFail || res.Class != ClassTimeout {
				t.Errorf("status %s/%s", res.Status, res.Class)
			}
		}},
		{"answers from 32000-32099 lost on the way back", "udp sport 32000-32099 drop", func(t *testing.T, res Result, d *UDPRangeDetails) {
			want := []UDPSubRange{
				{Range: PortRange{First: 30000, Last: 31999}, State: PortOpen, Ports: 2000},
				{Range: PortRange{First: 32000, Last: 32099}, State: PortFiltered, Direction: DirReturn, Ports: 100},
				{Range: PortRange{First: 32100, Last: 33000}, State: PortOpen, Ports: 901},
			}
			if fmt.Sprint(d.SubRanges) != fmt.Sprint(want) || d.Arrived != 3001 {
				t.Errorf("sub-ranges %+v arrived %d, want %+v and 3001 arrived", d.SubRanges, d.Arrived, want)
			}
		}},
		{"5% random loss each way is not a block", "udp dport 30000-33000 numgen random mod 100 < 5 drop\n udp sport 30000-33000 numgen random mod 100 < 5 drop",
			func(t *testing.T, res Result, d *UDPRangeDetails) {
				if res.Status != StatusPass || d.Open != 3001 || d.Filtered != 0 {
					t.Errorf("status %s %q: open %d filtered %d in %d rounds (%d sent)", res.Status, res.Error, d.Open, d.Filtered, d.Rounds, d.Sent)
				}
				if d.Rounds < 2 || d.Sent <= 3001 {
					t.Errorf("%d rounds, %d sent: loss should have needed retransmissions", d.Rounds, d.Sent)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := testNetns(t)
			nft := "table inet sweep {\n chain in {\n  type filter hook input priority 0; policy accept;\n  " + c.rules + "\n }\n}\n"
			probetest.NsNft(t, ns, nft)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			child := exec.CommandContext(ctx, "ip", "netns", "exec", ns, os.Args[0])
			child.Env = append(os.Environ(), netnsChildEnv+"=1")
			out, err := child.CombinedOutput()
			line := ""
			for _, l := range strings.Split(string(out), "\n") {
				if v, ok := strings.CutPrefix(l, "RESULT:"); ok {
					line = v
				}
			}
			if err != nil || line == "" {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var res Result
			if err := json.Unmarshal([]byte(line), &res); err != nil || res.Details.UDPRange == nil {
				t.Fatalf("child result %q: %v", line, err)
			}
			c.check(t, res, res.Details.UDPRange)
		})
	}
}

// TestMain runs the child half of TestUDPRangeNetnsFaults when asked to
// (inside the namespace its parent made), else the tests.
func TestMain(m *testing.M) {
	if os.Getenv(netnsChildEnv) == "1" {
		if err := sweepChild(); err != nil {
			fmt.Println("child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func sweepChild() error {
	srv, err := responder.New(responder.Config{UDP: []responder.Span{{Lo: 30000, Hi: 33000}}, Listen: "127.0.0.1", HTTP: "127.0.0.1:8480"})
	if err != nil {
		return err
	}
	if err := srv.Start(context.Background()); err != nil {
		return err
	}
	defer srv.Close()
	spec := Spec{ID: "media-range", Kind: KindUDPRange, Host: "127.0.0.1", Target: "127.0.0.1:30000-33000",
		Ranges: []PortRange{{First: 30000, Last: 33000}}, LocalRange: &PortRange{First: 49152, Last: 65535}, Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout)
	defer cancel()
	res := UDPRange(ctx, spec, &Config{Responder: "127.0.0.1"})
	b, err := json.Marshal(res)
	fmt.Printf("RESULT:%s\n", b)
	return err
}
