package platform_test

import (
	"errors"
	"fmt"
	"log"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/platform"
)

// Open a capture on eth0 with a kernel filter compiled for the socket once
// the link type is known, and read packets without copying them.
func ExampleOpen() {
	src, err := platform.Open(platform.Config{
		Interface:   "eth0",
		Snaplen:     128,
		Promiscuous: true,
		FilterFor: func(lt pcapio.LinkType) ([]bpf.RawInstruction, error) {
			prog, err := filter.Compile("udp port 53", filter.Options{LinkType: lt, Snaplen: 128, Target: filter.TargetLinuxSocket})
			if err != nil {
				return nil, err
			}
			return prog.Raw, nil
		},
	})
	if errors.Is(err, platform.ErrPermissionDenied) {
		log.Fatal(err) // the message says how to grant the capability
	}
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	for range 10 {
		p, err := src.NextZeroCopy()
		if err != nil {
			log.Fatal(err)
		}
		// p.Data is only valid until the next call: copy it to keep it.
		fmt.Println(p.Timestamp, p.Length, len(p.Data))
	}
	st, _ := src.Stats()
	fmt.Println("received", st.Received, "dropped", st.Dropped)
}
