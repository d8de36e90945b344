package capture_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// exampleFile writes the test packets to a temporary .pcapng file, as a
// capture program would have, and returns its path.
func exampleFile() string {
	dir, err := os.MkdirTemp("", "pkttap-example")
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "trace.pcapng")
	if err := capture.DumpPackets(path, pcapio.LinkTypeEthernet, ethernetPackets()); err != nil {
		log.Fatal(err)
	}
	return path
}

// Read the TCP SYN packets of a capture file.
func ExampleFromFile() {
	path := exampleFile()
	defer os.RemoveAll(filepath.Dir(path))

	c, err := capture.FromFile(path).Filter("tcp[tcpflags] & tcp-syn != 0").Open()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for {
		pkt, err := c.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(pkt.Timestamp.UTC().Format("15:04:05.000000"), pkt.LinkType, pkt.Length, "bytes")
	}
	// Output:
	// 22:13:22.123458 EN10MB 54 bytes
	// 22:13:23.123459 EN10MB 54 bytes
	// 22:13:31.123467 EN10MB 54 bytes
	// 22:13:32.123468 EN10MB 54 bytes
	// 22:13:40.123476 EN10MB 54 bytes
	// 22:13:41.123477 EN10MB 54 bytes
	// 22:13:49.123485 EN10MB 54 bytes
	// 22:13:50.123486 EN10MB 54 bytes
}

// Range over a capture's packets, keeping only the first 60 bytes of each.
func ExampleCapture_Packets() {
	path := exampleFile()
	defer os.RemoveAll(filepath.Dir(path))

	c, err := capture.FromFile(path).Snaplen(60).Filter("udp port 53").Open()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for pkt, err := range c.Packets() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d of %d bytes, truncated: %v\n", len(pkt.Data), pkt.Length, pkt.IsTruncated())
	}
	// Output:
	// 60 of 72 bytes, truncated: true
	// 60 of 132 bytes, truncated: true
	// 60 of 73 bytes, truncated: true
	// 60 of 132 bytes, truncated: true
	// 60 of 74 bytes, truncated: true
	// 60 of 132 bytes, truncated: true
	// 60 of 75 bytes, truncated: true
	// 60 of 132 bytes, truncated: true
}

// Copy the UDP packets of one file into another, in another format.
func ExampleToFile() {
	path := exampleFile()
	defer os.RemoveAll(filepath.Dir(path))
	out := filepath.Join(filepath.Dir(path), "udp.pcap")

	c, err := capture.FromFile(path).Filter("udp").Open()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	d, err := capture.ToFile(out).LinkType(c.LinkType()).Open()
	if err != nil {
		log.Fatal(err)
	}
	for {
		pkt, err := c.NextZeroCopy() // WritePacket is done with Data before the next call
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if err := d.WritePacket(pkt); err != nil {
			log.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		log.Fatal(err)
	}
	st, _ := c.Stats()
	fmt.Println("read", st.Received, "packets")

	c2, err := capture.FromFile(out).Open()
	if err != nil {
		log.Fatal(err)
	}
	defer c2.Close()
	n := 0
	for range c2.Packets() {
		n++
	}
	fmt.Println("wrote", n, "UDP packets")
	// Output:
	// read 36 packets
	// wrote 12 UDP packets
}

// Compile a filter once and use it for several captures.
func ExampleBuilder_FilterProgram() {
	path := exampleFile()
	defer os.RemoveAll(filepath.Dir(path))

	prog, err := filter.Compile("arp", filter.Options{LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		c, err := capture.FromFile(path).FilterProgram(prog).Open()
		if err != nil {
			log.Fatal(err)
		}
		n := 0
		for range c.Packets() {
			n++
		}
		c.Close()
		fmt.Println(n, "ARP packets")
	}
	// Output:
	// 4 ARP packets
	// 4 ARP packets
}

// Tell a filter's syntax error from other errors and show where it is.
func ExampleBuilder_Filter_error() {
	path := exampleFile()
	defer os.RemoveAll(filepath.Dir(path))

	_, err := capture.FromFile(path).Filter("tcp port").Open()
	var fe *filter.Error
	if errors.As(err, &fe) {
		fmt.Println("the filter is wrong at column", fe.Column)
	}
}

// Capture live traffic to port 53 on eth0 (as root, or with CAP_NET_RAW).
func ExampleLive() {
	c, err := capture.Live("eth0").Promiscuous(true).Snaplen(256).Filter("port 53").Open()
	if errors.Is(err, capture.ErrPermissionDenied) {
		log.Fatal("run as root or: sudo setcap cap_net_raw,cap_net_admin=ep ", os.Args[0])
	}
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 10; i++ {
		pkt, err := c.Next()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(pkt.Timestamp, len(pkt.Data), "bytes")
	}
	st, _ := c.Stats()
	fmt.Println(st.Received, "received,", st.Dropped, "dropped")
}

// Write packets made in memory to a pcapng file and read them back.
func ExampleDumpPackets() {
	dir, err := os.MkdirTemp("", "pkttap-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "made.pcapng")

	pkts := ethernetPackets()[:3]
	if err := capture.DumpPackets(path, pcapio.LinkTypeEthernet, pkts); err != nil {
		log.Fatal(err)
	}
	c, err := capture.FromFile(path).Open()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for pkt, err := range c.Packets() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(pkt.Timestamp.UTC().Format(time.RFC3339Nano), pkt.Length, "bytes")
	}
	// Output:
	// 2023-11-14T22:13:20.123456789Z 72 bytes
	// 2023-11-14T22:13:21.12345779Z 132 bytes
	// 2023-11-14T22:13:22.123458791Z 54 bytes
}

// List the interfaces a live capture can open.
func ExampleInterfaces() {
	ifs, err := capture.Interfaces()
	if err != nil {
		log.Fatal(err)
	}
	for _, ifc := range ifs {
		fmt.Println(ifc.Name, ifc.Description, ifc.Up, ifc.Addresses)
	}
}
