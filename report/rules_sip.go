package report

import (
	"fmt"
)

// sip-rewrite: the server saw another address than ours (NAT, usual) or
// echoed a Via we did not send (a SIP ALG rewrote the message).
func ruleSIPRewrite(in *Input) []Finding {
	var out []Finding
	for _, c := range in.Checks {
		s := c.Details.SIP
		if s == nil || (!s.Rewritten && !s.ALG) {
			continue
		}
		seen := s.Received
		if s.RPort != 0 {
			seen = fmt.Sprintf("%s port %d", orDash(s.Received), s.RPort)
		}
		detail := fmt.Sprintf("%s sent from %s; the server saw %s (Via received/rport).", c.ID, s.LocalAddr, seen)
		title := "SIP passes a NAT on the way to " + c.Host
		if s.ALG {
			title = "A SIP ALG rewrites SIP on the way to " + c.Host
			detail += fmt.Sprintf(" The Via came back as %s instead of %s: something in the path rewrote the SIP message itself (a SIP ALG/helper). ALGs often break registration and audio.", s.ViaEchoed, s.ViaSent)
		} else {
			detail += " This is normal behind NAT; the phone or PBX must handle it (rport, STUN or an SBC)."
		}
		out = append(out, Finding{
			Severity: SeverityInfo,
			Title:    title,
			Detail:   detail,
			Evidence: []string{c.ID},
			Facts:    map[string]string{"local": s.LocalAddr, "received": s.Received, "rport": fmt.Sprint(s.RPort)},
		})
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
