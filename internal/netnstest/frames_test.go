package netnstest

import (
	"bytes"
	"testing"
)

func TestEthFrame(t *testing.T) {
	dst := []byte{1, 2, 3, 4, 5, 6}
	src := []byte{7, 8, 9, 10, 11, 12}
	got := EthFrame(dst, src, EtherTypeTest, []byte("hi"), VLANTag(0xa064), [4]byte{0x81, 0x00, 0x00, 200})
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0xa0, 0x64, 0x81, 0x00, 0x00, 200, 0x88, 0xb5, 'h', 'i'}
	if !bytes.Equal(got, want) {
		t.Errorf("EthFrame = % x, want % x", got, want)
	}
	if got := EthFrame(dst, src, 0x0800, nil); !bytes.Equal(got, append(append(append([]byte{}, dst...), src...), 0x08, 0x00)) {
		t.Errorf("untagged EthFrame = % x", got)
	}
}
