package ice

import "math"

// Codec is what the E-model needs to know about a voice codec: its
// equipment impairment Ie and its packet-loss robustness Bpl (ITU-T G.113
// Appendix I), and the shape of its packets.
type Codec struct {
	Name string
	Ie   float64
	Bpl  float64
	// PayloadBytes per packet at PacketMS packetisation.
	PayloadBytes int
	PacketMS     int
}

// G711 is G.711 (PCMU) at 20 ms with packet loss concealment: 160 bytes
// of payload per packet, 50 packets a second, Ie 0, Bpl 25.1.
var G711 = Codec{Name: "G.711", Ie: 0, Bpl: 25.1, PayloadBytes: 160, PacketMS: 20}

// RFactor is the simplified ITU-T G.107 E-model used by ucprobe:
//
//	EL = RTT + 2 x jitter + 10 ms (effective latency)
//	Id = EL/40 when EL < 160 ms, else (EL - 120)/10
//	Ie,eff = Ie + (95 - Ie) x Ppl / (Ppl + Bpl)  (Ppl: loss in %)
//	R = 93.2 - Id - Ie,eff
//
// For G.711 with concealment (Bpl 25.1) Ie,eff grows by about 3.7 per %
// of loss at low loss, close to the 2.5 per % of the shortest form.
func RFactor(c Codec, rttMS, jitterMS, lossPct float64) float64 {
	el := rttMS + 2*jitterMS + 10
	id := el / 40
	if el >= 160 {
		id = (el - 120) / 10
	}
	lossPct = math.Max(0, lossPct)
	ieEff := c.Ie + (95-c.Ie)*lossPct/(lossPct+c.Bpl)
	return 93.2 - id - ieEff
}

// MOS maps an R factor to an estimated mean opinion score (G.107 Annex B).
func MOS(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + 7e-6*r*(r-60)*(100-r)
}

// Grade names a MOS: excellent above 4.2, good from 3.7, fair from 3.1,
// else degraded.
func Grade(mos float64) string {
	switch {
	case mos > 4.2:
		return "excellent"
	case mos >= 3.7:
		return "good"
	case mos >= 3.1:
		return "fair"
	}
	return "degraded"
}
