package pcapio_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// Write two packets as pcapng, one cut short, and read them back.
func Example() {
	var file bytes.Buffer
	w, err := pcapio.NewWriter(&file, pcapio.WriterOptions{
		Format:     pcapio.FormatPcapNg,
		Interfaces: []pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet, Name: "eth0"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	t := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for _, p := range []pcapio.Packet{
		{Timestamp: t, Data: make([]byte, 60), Length: 60},
		{Timestamp: t.Add(time.Millisecond), Data: make([]byte, 64), Length: 1514, Comment: "snapped"},
	} {
		if err := w.WritePacket(&p); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}

	r, err := pcapio.NewReader(&file) // any io.Reader: a file, a pipe, an HTTP body
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Format(), r.LinkType(), r.Interfaces()[0].Name)
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err) // a *pcapio.FormatError names the byte offset
		}
		fmt.Println(p.Timestamp.Format(time.RFC3339Nano), len(p.Data), p.Length, p.IsTruncated(), fmt.Sprintf("%q", p.Comment))
	}
	// Output:
	// pcapng EN10MB eth0
	// 2026-01-02T03:04:05.123456789Z 60 60 false ""
	// 2026-01-02T03:04:05.124456789Z 64 1514 true "snapped"
}

// NextZeroCopy is the fast path: Data is only valid until the next call.
func ExampleReader_NextZeroCopy() {
	var file bytes.Buffer
	w, _ := pcapio.NewWriter(&file, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeRaw})
	for i := range 3 {
		w.WritePacket(&pcapio.Packet{Timestamp: time.Unix(int64(i), 0), Data: []byte{0x45, byte(i)}})
	}
	w.Flush()

	r, err := pcapio.NewReader(&file)
	if err != nil {
		log.Fatal(err)
	}
	total := 0
	for {
		p, err := r.NextZeroCopy()
		if err != nil {
			break // io.EOF at the end
		}
		total += len(p.Data) // look at p.Data now; copy what you keep
	}
	fmt.Println(total, "bytes")
	// Output: 6 bytes
}

// NextInto reads into the caller's buffer: passing the last packet's Data
// back reuses it, so a loop that keeps nothing allocates nothing.
func ExampleReader_NextInto() {
	var file bytes.Buffer
	w, _ := pcapio.NewWriter(&file, pcapio.WriterOptions{Format: pcapio.FormatPcapNg, LinkType: pcapio.LinkTypeRaw})
	for i := range 3 {
		w.WritePacket(&pcapio.Packet{Timestamp: time.Unix(int64(i), 0), Data: []byte{0x45, byte(i), 0, 0}})
	}
	w.Flush()

	r, err := pcapio.NewReader(&file)
	if err != nil {
		log.Fatal(err)
	}
	var buf []byte
	for {
		p, err := r.NextInto(buf)
		if err != nil {
			break // io.EOF at the end
		}
		fmt.Printf("% x\n", p.Data)
		buf = p.Data // done with this packet: reuse its memory for the next
	}
	// Output:
	// 45 00 00 00
	// 45 01 00 00
	// 45 02 00 00
}
