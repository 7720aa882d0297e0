package ice

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	pice "github.com/pion/ice/v4"
)

// ErrBadSignal: an offer or answer that does not decode or breaks a bound.
var ErrBadSignal = errors.New("bad ICE signalling")

// maxCredLen bounds ufrag and pwd (RFC 8445 allows up to 256 characters).
const maxCredLen = 256

// decodeAnswer reads a client's answer for the responder: credentials,
// and at most max candidates, each with an IP address a check may go to
// (unspecified, multicast and broadcast addresses and names are dropped,
// duplicates once). It never panics on any input (FuzzAnswer).
func decodeAnswer(data []byte, max int) (Answer, []pice.Candidate, error) {
	var ans Answer
	if err := json.Unmarshal(data, &ans); err != nil {
		return ans, nil, fmt.Errorf("%w: answer: want JSON {ufrag, pwd, candidates}: %v", ErrBadSignal, err)
	}
	if err := checkCreds(ans.Ufrag, ans.Pwd); err != nil {
		return ans, nil, fmt.Errorf("%w: answer: %v", ErrBadSignal, err)
	}
	if len(ans.Candidates) > max {
		return ans, nil, fmt.Errorf("%w: answer: %d candidates, at most %d", ErrBadSignal, len(ans.Candidates), max)
	}
	cands, err := parseCandidates(ans.Candidates, "answer")
	return ans, cands, err
}

// decodeOffer checks a responder's offer for the client (FuzzOffer): a
// session id that is safe in a URL path, credentials, candidates that
// parse.
func decodeOffer(o *Offer) ([]pice.Candidate, error) {
	if o.Session == "" || len(o.Session) > 128 || strings.ContainsAny(o.Session, "/?#%") {
		return nil, fmt.Errorf("%w: the offer lacks a usable session id", ErrBadSignal)
	}
	if err := checkCreds(o.Ufrag, o.Pwd); err != nil {
		return nil, fmt.Errorf("%w: offer: %v", ErrBadSignal, err)
	}
	if len(o.Candidates) > DefaultMaxRemoteCandidates*4 {
		return nil, fmt.Errorf("%w: offer: %d candidates", ErrBadSignal, len(o.Candidates))
	}
	return parseCandidates(o.Candidates, "offer")
}

func checkCreds(ufrag, pwd string) error {
	if ufrag == "" || pwd == "" || len(ufrag) > maxCredLen || len(pwd) > maxCredLen {
		return fmt.Errorf("ufrag and pwd must be 1-%d characters", maxCredLen)
	}
	return nil
}

func parseCandidates(raw []string, what string) ([]pice.Candidate, error) {
	var out []pice.Candidate
	seen := map[string]bool{}
	for i, s := range raw {
		c, err := pice.UnmarshalCandidate(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: candidate %d does not parse: %v", ErrBadSignal, what, i+1, err)
		}
		ip, err := netip.ParseAddr(c.Address())
		if err != nil || !checkable(ip.Unmap()) {
			continue
		}
		key := c.NetworkType().String() + " " + netip.AddrPortFrom(ip, uint16(c.Port())).String()
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, c)
	}
	return out, nil
}

// checkable: an address a connectivity check may be sent to.
func checkable(ip netip.Addr) bool {
	return ip.IsValid() && !ip.IsUnspecified() && !ip.IsMulticast() && ip != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// answerCandidates keeps at most max of a client's candidates for its
// answer (the responder refuses more): relay and server-reflexive ones
// first, the paths across NATs and firewalls, then host ones in the
// agent's order (a machine with many interfaces has many of those).
func answerCandidates(cs []pice.Candidate, max int) []pice.Candidate {
	if len(cs) <= max {
		return cs
	}
	rank := map[pice.CandidateType]int{pice.CandidateTypeRelay: 0, pice.CandidateTypeServerReflexive: 1, pice.CandidateTypePeerReflexive: 2, pice.CandidateTypeHost: 3}
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b pice.Candidate) int { return rank[a.Type()] - rank[b.Type()] })
	return out[:max]
}
