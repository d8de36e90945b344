package vm

import (
	"testing"

	"github.com/pkttap/pkttap/filter/internal/golden"
)

// TestTranslateFuses checks that the sequences libpcap emits most become
// single steps, so that a change which silently stops fusing (and makes
// the VM slower, not wrong) fails here.
func TestTranslateFuses(t *testing.T) {
	tests := []struct {
		name string
		prog string // tcpdump -ddd -y EN10MB, joined by ','
		want map[int]uint8
	}{
		{
			"tcp port 443",
			"20,40 0 0 12,21 0 6 34525,48 0 0 20,21 0 15 6,40 0 0 54,21 12 0 443,40 0 0 56,21 10 11 443,21 0 10 2048,48 0 0 23,21 0 8 6,40 0 0 20,69 6 0 8191,177 0 0 14,72 0 0 14,21 2 0 443,72 0 0 16,21 0 1 443,6 0 0 262144,6 0 0 0",
			map[int]uint8{0: xLdHJeqJeq, 2: xLdBJeq, 4: xLdHJeq, 9: xLdBJeq, 11: xLdHJset, 13: xMshHI, 14: xLdHIJeq, 16: xLdHIJeq},
		},
		{
			"host 10.1.2.3",
			"14,40 0 0 12,21 0 4 2048,32 0 0 26,21 8 0 167838211,32 0 0 30,21 6 7 167838211,21 1 0 2054,21 0 5 32821,32 0 0 28,21 2 0 167838211,32 0 0 38,21 0 1 167838211,6 0 0 262144,6 0 0 0",
			map[int]uint8{0: xLdHJeqN, 2: xLdWJeq, 4: xLdWJeq, 6: xJeqJeq},
		},
		{
			"net 10.0.0.0/8",
			"10,40 0 0 12,21 0 3 2048,32 0 0 26,84 0 0 4278190080,21 4 0 167772160,32 0 0 30,84 0 0 4278190080,21 0 1 167772160,6 0 0 262144,6 0 0 0",
			map[int]uint8{2: xLdWAndJeq, 5: xLdWAndJeq},
		},
		{"len > 1200", "4,128 0 0 0,37 0 1 1200,6 0 0 262144,6 0 0 0", map[int]uint8{0: xLdLenJ}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := golden.ParseDDD(tt.prog)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(prog); err != nil {
				t.Fatal(err)
			}
			ops, _ := translate(prog)
			for i, want := range tt.want {
				if ops[i].code != want {
					t.Errorf("op %d is code %d, want %d", i, ops[i].code, want)
				}
			}
		})
	}
}
