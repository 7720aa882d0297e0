package report

import "testing"

// TestURLHost: a proxy written without a scheme (HTTPS_PROXY=proxy:3128,
// common) still yields its host, so redaction replaces it.
func TestURLHost(t *testing.T) {
	for in, want := range map[string]string{
		"http://webproxy.corp.example:3128": "webproxy.corp.example",
		"webproxy.corp.example:3128":        "webproxy.corp.example",
		"http://user@[2001:db8::1]:8080":    "2001:db8::1",
		"":                                  "",
	} {
		if got := urlHost(in); got != want {
			t.Errorf("urlHost(%q) = %q, want %q", in, got, want)
		}
	}
}
