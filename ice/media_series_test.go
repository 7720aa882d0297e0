package ice

import (
	"testing"
	"time"
)

func TestMediaSeries(t *testing.T) {
	const packet = 20 * time.Millisecond
	// 100 packets over 2 s; the second half lost every other packet and
	// took 80 ms instead of 20.
	var echoes []echo
	for seq := 0; seq < 100; seq++ {
		rtt := 20.0
		if seq >= 50 {
			if seq%2 == 1 {
				continue
			}
			rtt = 80
		}
		echoes = append(echoes, echo{seq: uint16(seq), sentNS: int64(seq) * int64(packet), rttMS: rtt, jitterMS: float64(seq) / 10})
	}
	s := mediaSeries(echoes, 100, packet, 2*time.Second)
	if len(s) > seriesPoints || len(s) < seriesPoints/2 {
		t.Fatalf("%d intervals, want at most %d and not far fewer", len(s), seriesPoints)
	}
	sent := 0
	for _, iv := range s {
		sent += iv.Sent
	}
	if sent != 100 {
		t.Errorf("intervals count %d packets sent, want 100", sent)
	}
	first, last := s[0], s[len(s)-2] // the last one holds what is left over
	if first.StartS != 0 || first.LossPct != 0 || first.RTTMeanMS != 20 {
		t.Errorf("first interval %+v, want no loss and 20 ms", first)
	}
	if last.RTTMeanMS != 80 || last.LossPct < 30 || last.LossPct > 70 || last.StartS < 1.8 || last.Sent != s[0].Sent {
		t.Errorf("last interval %+v, want 80 ms and about half lost near 2 s", last)
	}
	if got := mediaSeries(nil, 10, packet, 200*time.Millisecond); len(got) != 10 || got[0].LossPct != 100 {
		t.Errorf("all lost: %+v", got)
	}
	if mediaSeries(nil, 0, packet, time.Second) != nil {
		t.Error("nothing sent gives no series")
	}
}
