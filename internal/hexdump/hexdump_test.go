package hexdump

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, ""},
		{"one byte", []byte{0x41}, "0000  41                                                |A|\n"},
		{"eight bytes", []byte("abcdefgh"), "0000  61 62 63 64 65 66 67 68                           |abcdefgh|\n"},
		{"nine bytes", []byte("abcdefghi"), "0000  61 62 63 64 65 66 67 68  69                       |abcdefghi|\n"},
		{"full row with controls", []byte{0x00, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff, '|', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'},
			"0000  00 1f 20 7e 7f 80 ff 7c  61 62 63 64 65 66 67 68  |.. ~...|abcdefgh|\n"},
		{"seventeen bytes", []byte("0123456789abcdefX"),
			"0000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n" +
				"0010  58                                                |X|\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Format(tt.data)
			if got != tt.want {
				t.Errorf("Format(%q) =\n%q\nwant\n%q", tt.data, got, tt.want)
			}
			if len(got) != Size(len(tt.data)) {
				t.Errorf("Size(%d) = %d, Format wrote %d bytes", len(tt.data), Size(len(tt.data)), len(got))
			}
			var b bytes.Buffer
			if err := Write(&b, tt.data); err != nil || b.String() != tt.want {
				t.Errorf("Write = %q, %v; want %q", b.String(), err, tt.want)
			}
		})
	}
}

// TestAgainstHexdump compares the rows with `hexdump -C -v` (util-linux or
// BSD hexdump) for every length from 0 to 80, exactly 64 KiB, one byte more
// and a long input, dropping hexdump's final offset line and taking its
// 8-digit offsets to our width: 4 digits up to 64 KiB, 5 beyond.
func TestAgainstHexdump(t *testing.T) {
	path := testenv.LookPath(t, "hexdump", "hexdump")
	lengths := make([]int, 0, 82)
	for n := range 81 {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 65536, 65537, 70000)
	for _, n := range lengths {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + i/256)
		}
		cmd := exec.Command(path, "-C", "-v")
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("hexdump -C -v: %v", err)
		}
		// hexdump prints nothing for no input, else a final offset line
		// that pkttap leaves out.
		digits := 4
		if n > 65536 {
			digits = 5
		}
		want := ""
		if lines := strings.SplitAfter(string(out), "\n"); len(lines) > 2 {
			for _, l := range lines[:len(lines)-2] {
				want += l[8-digits:]
			}
		}
		if got := Format(data); got != want {
			t.Fatalf("%d bytes: Format differs from hexdump -C -v:\n got %q\nwant %q", n, firstDiff(got, want), firstDiff(want, got))
		}
	}
}

// firstDiff returns a's line at the first line where a and b differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range al {
		if i >= len(bl) || al[i] != bl[i] {
			return al[i]
		}
	}
	return ""
}

func TestAppendAllocs(t *testing.T) {
	data := make([]byte, 1500)
	buf := make([]byte, 0, Size(len(data)))
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], data) }); n != 0 {
		t.Errorf("Append allocates %.0f times per call with a big enough buffer, want 0", n)
	}
}

func BenchmarkAppend(b *testing.B) {
	data := make([]byte, 1500)
	buf := make([]byte, 0, Size(len(data)))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		buf = Append(buf[:0], data)
	}
}
