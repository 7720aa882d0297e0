package profiles

import "testing"

func TestClosest(t *testing.T) {
	ids := []string{"estos-procall", "estos-ucserver", "generic", "imagicle-ucx", "swyx-hostedpbx", "xphone"}
	cmds := []string{"list", "show", "validate"}
	tests := []struct {
		word    string
		options []string
		want    string
	}{
		{"xphon", ids, "xphone"},
		{"xpohne", ids, "xphone"},
		{"XPhone", ids, "xphone"},
		{"swyx", ids, "swyx-hostedpbx"}, // the only one it starts
		{"estos", ids, ""},              // starts two: no guess
		{"generci", ids, "generic"},     // a swap is one edit
		{"lsit", cmds, "list"},
		{"valdate", cmds, "validate"},
		{"zzz", cmds, ""},
		{"ab", []string{"xy"}, ""}, // two edits in a two-letter word is no likeness
		{"", cmds, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, tt.options); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
