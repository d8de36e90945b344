// Command gensample writes pkttap-web's embedded demo capture (run by
// go generate in package web).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/pkttap/pkttap/internal/samplegen"
)

func main() {
	out := flag.String("o", "sample.pcapng", "output file")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gensample:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	var b bytes.Buffer
	if err := samplegen.WriteSample(&b); err != nil {
		return err
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write sample: %w", err)
	}
	return nil
}
