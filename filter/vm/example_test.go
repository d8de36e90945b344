package vm_test

import (
	"fmt"

	"github.com/pkttap/pkttap/filter/vm"
	"golang.org/x/net/bpf"
)

// A program as `tcpdump -ddd -y EN10MB 'len > 1200'` prints it runs on a
// packet's captured bytes and its length on the wire.
func ExampleNew() {
	prog := []bpf.RawInstruction{
		{Op: 0x80},                        // ld len
		{Op: 0x25, Jt: 0, Jf: 1, K: 1200}, // jgt #1200
		{Op: 0x06, K: 262144},             // ret #262144
		{Op: 0x06, K: 0},                  // ret #0
	}
	v, err := vm.New(prog)
	if err != nil {
		fmt.Println(err)
		return
	}
	captured := make([]byte, 96) // a packet cut at a snap length of 96
	fmt.Println(v.Run(captured, 1514))
	fmt.Println(v.Run(captured, 96))
	// Output:
	// 262144
	// 0
}

// A program compiled for a live Linux socket reads the VLAN tag the kernel
// stripped from the packet through an ancillary load; RunWithMetadata
// answers it from the packet's metadata, Run (like libpcap) cannot.
func ExampleVM_RunWithMetadata() {
	v, err := vm.New([]bpf.RawInstruction{
		{Op: 0x30, K: 0xfffff000 + 48}, // ldb [vlanp]
		{Op: 0x15, Jt: 0, Jf: 1, K: 1}, // jeq #1
		{Op: 0x06, K: 65535},           // ret #65535
		{Op: 0x06, K: 0},               // ret #0
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	pkt := make([]byte, 60)
	fmt.Println(v.RunWithMetadata(pkt, 60, &vm.Metadata{VLANPresent: true, VLANTCI: 100, VLANTPID: 0x8100}))
	fmt.Println(v.Run(pkt, 60))
	// Output:
	// 65535
	// 0
}

// New names the instruction that makes a program invalid.
func ExampleNew_invalid() {
	_, err := vm.New([]bpf.RawInstruction{
		{Op: 0x28, K: 12},                  // ldh [12]
		{Op: 0x15, Jt: 7, Jf: 0, K: 0x800}, // jeq #0x800 jt 9
		{Op: 0x06, K: 0},                   // ret #0
	})
	fmt.Println(err)
	// Output:
	// vm: instruction 1 (jeq #2048,7): true-branch target 9 outside the program (0-2)
}
