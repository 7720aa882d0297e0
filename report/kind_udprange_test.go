package report

import (
	"slices"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

func TestUDPRangeText(t *testing.T) {
	c := check("media", probe.KindUDPRange).udp().atTURN().runs(run(30000, 30999, probe.PortOpen, ""), run(31000, 33000, probe.PortFiltered, probe.DirInbound)).receipts().r()
	d := c.Details.UDPRange
	d.Sent, d.Rounds, d.RTTMedian, d.NotServed = 7003, 3, 0.4, 0
	got := udpRangeSummary(c)
	want := []string{
		"1000/3001 ports open, receipts from the responder, RTT 0.4 ms, 7003 sent in 3 rounds",
		"30000-30999 open, 31000-33000 filtered (inbound)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	d.SubRanges = d.SubRanges[:1]
	d.NotServed, d.ReceiptsError, d.Receipts = 2, "HTTP 401", false
	got = udpRangeSummary(c)
	if len(got) != 3 || got[1] != "2 ports not served by the responder (in use on its side, or outside its --udp): not counted as blocked" || got[2] != "no receipts: HTTP 401" {
		t.Errorf("summary %q", got)
	}
}

// A failed sweep shows its sub-range map too (failures get the detail
// lines instead of the summary).
func TestUDPRangeTextOnFailure(t *testing.T) {
	c := check("media", probe.KindUDPRange).udp().atTURN().runs(run(30000, 30999, probe.PortOpen, ""), run(31000, 33000, probe.PortFiltered, probe.DirInbound)).receipts().r()
	c.Details.UDPRange.LocalAddr, c.Details.UDPRange.RatePPS = "0.0.0.0:50000", 25000
	got := detailLines(c)
	if len(got) != 3 || got[1] != "30000-30999 open, 31000-33000 filtered (inbound)" || got[2] != "from 0.0.0.0:50000, paced at 25000 packets/s" {
		t.Errorf("detail lines %q", got)
	}
}
