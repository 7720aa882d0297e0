package probe

import "testing"

// RFC 6455 section 1.3's worked example: a server that follows the RFC
// answers this key with exactly this accept value.
func TestWebSocketAcceptKeyRFC6455(t *testing.T) {
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("accept key %q", got)
	}
}
