package probe_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/ucprobe/ucprobe/probe"
)

// The one resolver of TURN credentials, each kind from a table; TURN REST
// answers are checked against pion's implementation of the same scheme.
func TestResolveTURNCredentials(t *testing.T) {
	now := time.Now()
	expiry := fmt.Sprint(now.Add(probe.TURNRESTTTL).Unix())
	for _, tc := range []struct {
		name     string
		in       probe.TURNCredentials
		kind     probe.CredentialKind
		user     string // the user name sent
		password probe.Secret
		err      error
	}{
		{"nothing", probe.TURNCredentials{}, probe.CredNone, "", "", nil},
		{"long-term", probe.TURNCredentials{Username: "alice", Password: "pw-1"}, probe.CredLongTerm, "alice", "pw-1", nil},
		{"user without password", probe.TURNCredentials{Username: "alice"}, probe.CredNone, "", "", probe.ErrTURNNoPassword},
		{"password without user", probe.TURNCredentials{Password: "pw-1"}, probe.CredNone, "", "", nil},
		{"rest", probe.TURNCredentials{SharedSecret: "s3cret"}, probe.CredREST, expiry + ":ucprobe", "", nil},
		{"rest with a user id", probe.TURNCredentials{Username: "alice", SharedSecret: "s3cret"}, probe.CredREST, expiry + ":alice", "", nil},
		{"rest wins over long-term", probe.TURNCredentials{Username: "alice", Password: "pw-1", SharedSecret: "s3cret"}, probe.CredREST, expiry + ":alice", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := probe.ResolveTURNCredentials(tc.in, now)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if got.Kind != tc.kind || got.Username != tc.user {
				t.Errorf("kind %q user %q, want %q %q", got.Kind, got.Username, tc.kind, tc.user)
			}
			if tc.kind == probe.CredREST {
				assertRESTAccepted(t, got, tc.in.SharedSecret)
			} else if got.Password != tc.password {
				t.Errorf("password differs from the one given")
			}
			for _, s := range []probe.Secret{tc.in.Password, tc.in.SharedSecret, got.Password} {
				if s != "" && (strings.Contains(fmt.Sprintf("%v %+v", err, got), s.Reveal())) {
					t.Errorf("a secret shows in %v / %+v", err, got)
				}
			}
		})
	}
}

// assertRESTAccepted: pion's TURN REST client, asked for credentials with
// the same user id and expiry, sends the same user name and password (an
// implementation of coturn's use-auth-secret beside ours), and the expiry
// lies ahead of the real clock.
func assertRESTAccepted(t *testing.T, got probe.TURNAuth, secret probe.Secret) {
	t.Helper()
	expiry, id, _ := strings.Cut(got.Username, ":")
	at, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || at <= time.Now().Unix() {
		t.Fatalf("user name %q: no expiry ahead (%v)", got.Username, err)
	}
	// pion reads the clock itself: retry across a second's tick.
	for range 3 {
		user, pass, err := turn.GenerateLongTermTURNRESTCredentials(secret.Reveal(), id, time.Until(time.Unix(at, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if user == got.Username {
			if pass != got.Password.Reveal() {
				t.Errorf("user name %q: the password differs from pion's TURN REST password", got.Username)
			}
			return
		}
	}
	t.Errorf("pion never derived the user name %q", got.Username)
}

// The expiry is now + TURNRESTTTL by the clock given, so a check that
// resolved at one instant sends one user name.
func TestResolveTURNCredentialsExpiry(t *testing.T) {
	c := probe.TURNCredentials{SharedSecret: "s3cret"}
	got, err := probe.ResolveTURNCredentials(c, time.Unix(1_700_000_000, 0))
	if err != nil || got.Username != "1700003600:ucprobe" {
		t.Fatalf("user %q err %v, want 1700003600:ucprobe (TTL %v)", got.Username, err, probe.TURNRESTTTL)
	}
}
