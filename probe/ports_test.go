package probe

import (
	"errors"
	"testing"
)

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "30000-33000", want: "30000-33000"},
		{in: "443, 9094,9100-9101", want: "443,9094,9100-9101"},
		{in: "9101,443", want: "443,9101"},
		{in: "2230", want: "2230"},
		{in: "1-65535", want: "1-65535"},
		{in: "", wantErr: true},
		{in: "0", wantErr: true},
		{in: "65536", wantErr: true},
		{in: "33000-30000", wantErr: true},
		{in: "30000-31000,30500", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "100-", wantErr: true},
	}
	for _, tt := range tests {
		rs, err := ParsePorts(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrBadPorts) {
				t.Errorf("ParsePorts(%q) error = %v, want ErrBadPorts", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePorts(%q): %v", tt.in, err)
			continue
		}
		if got := FormatRanges(rs); got != tt.want {
			t.Errorf("ParsePorts(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	rs, _ := ParsePorts("30000-33000,3478")
	if n := CountPorts(rs); n != 3002 {
		t.Errorf("CountPorts = %d, want 3002", n)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	for _, got := range []string{s.String(), s.GoString(), sprint(s), sprintV(s), jsonOf(t, s)} {
		if contains(got, "hunter2") {
			t.Fatalf("secret leaked: %q", got)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal lost the value")
	}
}
