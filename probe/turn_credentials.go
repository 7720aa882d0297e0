package probe

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// TURNRESTTTL is how long TURN REST credentials we derive stay valid. The
// expiry travels in the user name and the server judges it by its own
// clock, so the TTL has to cover the longest use of one derived credential
// (a run with its allocations' refreshes, a few minutes) plus how far this
// machine's clock may lag the server's: ucprobe runs on networks where NTP
// is often among what is blocked, and a TTL of minutes would turn a slow
// clock into a false "rejects the credentials". An hour keeps that margin
// and still lets credentials the responder hands out lapse soon
// (draft-uberti-behave-turn-rest-00 suggests a day for a whole web call).
const TURNRESTTTL = time.Hour

// turnRESTUser is the user id in a TURN REST user name when none is given
// (coturn logs and counts quotas by it).
const turnRESTUser = "ucprobe"

// ErrTURNNoPassword: a TURN user name was given without its password. Long-term
// credentials need both (RFC 8489 section 9.2); an empty password is never
// what was meant, so it counts as no credentials and says why.
var ErrTURNNoPassword = errors.New("TURN user name given without a password (give --turn-pass too)")

// TURNAuth is what a TURN client sends: the user name (not secret: REST's
// carries the expiry) and the password as a Secret, revealed only to pion.
type TURNAuth struct {
	Kind     CredentialKind
	Username string
	Password Secret
}

// ResolveTURNCredentials is the one place that turns the run's TURN
// credentials into what is sent, for probe's checks and ice's agents alike
// (two resolvers once disagreed, and relay-loopback decided with one and
// authenticated with the other). In order:
//   - a shared secret: TURN REST (coturn use-auth-secret): user name
//     "<unix expiry>:<user>" (user "ucprobe" when none is given), password
//     base64(HMAC-SHA1(secret, user name)), valid TURNRESTTTL from now;
//   - a user name and password: long-term credentials as given;
//   - a user name alone: none, with ErrTURNNoPassword;
//   - nothing (or a password alone): none.
//
// The error never holds a secret.
func ResolveTURNCredentials(c TURNCredentials, now time.Time) (TURNAuth, error) {
	switch {
	case c.UserWithoutPassword():
		return TURNAuth{Kind: CredNone}, fmt.Errorf("%w: user %q", ErrTURNNoPassword, c.Username)
	case c.SharedSecret != "":
		user := c.Username
		if user == "" {
			user = turnRESTUser
		}
		name := strconv.FormatInt(now.Add(TURNRESTTTL).Unix(), 10) + ":" + user
		return TURNAuth{Kind: CredREST, Username: name, Password: turnRESTPassword(c.SharedSecret, name)}, nil
	case c.Username != "" && c.Password != "":
		return TURNAuth{Kind: CredLongTerm, Username: c.Username, Password: c.Password}, nil
	}
	return TURNAuth{Kind: CredNone}, nil
}

// turnRESTPassword is base64(HMAC-SHA1(secret, user name)), as coturn's
// use-auth-secret checks it.
func turnRESTPassword(secret Secret, name string) Secret {
	m := hmac.New(sha1.New, []byte(secret.Reveal()))
	m.Write([]byte(name)) // a hash.Hash never fails a write
	return Secret(base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// UserWithoutPassword: a user name with neither its password nor a REST
// secret, which resolves to no credentials (ErrTURNNoPassword). The CLI
// and the exporter refuse it as bad input.
func (c TURNCredentials) UserWithoutPassword() bool {
	return c.Username != "" && c.Password == "" && c.SharedSecret == ""
}
