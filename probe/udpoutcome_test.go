package probe

import "testing"

// TestUDPOutcome: the one judgement of what a check learned about UDP.
func TestUDPOutcome(t *testing.T) {
	rng := func(st Status, cl ErrorClass, d UDPRangeDetails) Result {
		return Result{Kind: KindUDPRange, Transport: TransportUDP, Status: st, Class: cl, Details: Details{UDPRange: &d}}
	}
	one := func(k Kind, tr Transport, st Status, cl ErrorClass) Result {
		return Result{Kind: k, Transport: tr, Status: st, Class: cl}
	}
	live := &UDPLiveDetails{Verdict: LiveSilent}
	cases := []struct {
		name string
		r    Result
		want UDPOutcome
	}{
		{"stun answered", one(KindSTUN, TransportUDP, StatusPass, ""), UDPAnswered},
		{"stun timeout", one(KindSTUN, TransportUDP, StatusFail, ClassTimeout), UDPSilent},
		{"stun admin prohibited", one(KindSTUN, TransportUDP, StatusFail, ClassProhibited), UDPProhibited},
		{"stun host unreachable", one(KindSTUN, TransportUDP, StatusFail, ClassUnreachable), UDPUnroutable},
		{"stun port unreachable proves arrival", one(KindSTUN, TransportUDP, StatusFail, ClassRefused), UDPAnswered},
		{"turn 401 over udp", one(KindTURN, TransportUDP, StatusFail, ClassAuth), UDPAnswered},
		{"turn over dtls alert", one(KindTURN, TransportDTLS, StatusFail, ClassTLS), UDPAnswered},
		{"turn dns failure", one(KindTURN, TransportUDP, StatusFail, ClassDNS), UDPNoEvidence},
		{"turn over tcp is no udp", one(KindTURN, TransportTCP, StatusFail, ClassTimeout), UDPNoEvidence},
		{"tcp check", one(KindTCP, TransportTCP, StatusFail, ClassTimeout), UDPNoEvidence},
		{"skipped", one(KindSTUN, TransportUDP, StatusSkip, ""), UDPNoEvidence},
		{"range partly open", rng(StatusFail, ClassTimeout, UDPRangeDetails{Ports: 10, Open: 3, Filtered: 7}), UDPAnswered},
		{"range closed ports prove arrival", rng(StatusWarn, "", UDPRangeDetails{Ports: 10, Closed: 10}), UDPAnswered},
		{"range silent", rng(StatusFail, ClassTimeout, UDPRangeDetails{Ports: 10, Filtered: 10}), UDPSilent},
		{"range prohibited", rng(StatusFail, ClassProhibited, UDPRangeDetails{Ports: 10, Prohibited: 10}), UDPProhibited},
		{"range unreachable", rng(StatusFail, ClassUnreachable, UDPRangeDetails{Ports: 10, Unreachable: 10}), UDPUnroutable},
		{"range sent nothing", rng(StatusFail, ClassTimeout, UDPRangeDetails{}), UDPNoEvidence},
		{"range token refused", rng(StatusFail, ClassAuth, UDPRangeDetails{Ports: 10, Filtered: 10, TokenRefused: true}), UDPNoEvidence},
		{"range inconclusive sweep", rng(StatusWarn, "", UDPRangeDetails{Ports: 10, Filtered: 10, Inconclusive: true}), UDPNoEvidence},
		{"live sample silent", rng(StatusWarn, "", UDPRangeDetails{Ports: 10, Filtered: 10, Inconclusive: true, Live: live}), UDPSilentSample},
		{"live sample no route", rng(StatusFail, ClassUnreachable, UDPRangeDetails{Ports: 10, Unreachable: 10, Live: live}), UDPUnroutable},
		{"range without details", Result{Kind: KindUDPRange, Status: StatusFail, Class: ClassTimeout}, UDPNoEvidence},
	}
	for _, tc := range cases {
		if got := tc.r.UDP(); got != tc.want {
			t.Errorf("%s: UDP() = %s, want %s", tc.name, got, tc.want)
		}
	}
	for o := UDPNoEvidence; o <= UDPUnroutable; o++ {
		if got, want := o.GotNothing(), o != UDPNoEvidence && o != UDPAnswered; got != want {
			t.Errorf("%s.GotNothing() = %v", o, got)
		}
	}
}
