package filter_test

import (
	"errors"
	"fmt"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

func ExampleCompile() {
	prog, err := filter.Compile("ip and udp port 53", filter.Options{LinkType: pcapio.LinkTypeRaw, NoOptimize: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	// An IPv4 header (20 bytes, protocol UDP) and a UDP header to port 53.
	pkt := []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x30, 0x39, 0, 53, 0, 8, 0, 0}
	fmt.Println(prog.Match(pkt, len(pkt)))
	// Output: 262144
}

func ExampleError() {
	_, err := filter.Compile("tcp port", filter.Options{LinkType: pcapio.LinkTypeEthernet})
	var fe *filter.Error
	if errors.As(err, &fe) {
		fmt.Println(fe.Column)
		fmt.Println(err)
	}
	// Output:
	// 9
	// column 9: syntax error: expected a port number or name after 'port', found end of expression
}

func ExampleProgram_Dump() {
	prog, _ := filter.Compile("arp", filter.Options{LinkType: pcapio.LinkTypeEthernet})
	fmt.Print(prog.Dump(1))
	// Output:
	// (000) ldh      [12]
	// (001) jeq      #0x806           jt 2	jf 3
	// (002) ret      #262144
	// (003) ret      #0
}
