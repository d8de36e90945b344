package web

import (
	"bytes"
	"go/format"
	"os"
	"testing"

	"github.com/a-h/templ"
	"github.com/a-h/templ/generator"
	parser "github.com/a-h/templ/parser/v2"
)

// TestTemplGenerated checks that the committed page_templ.go is what
// `go tool templ generate` makes from page.templ with the templ version in
// go.mod, so the two cannot drift apart.
func TestTemplGenerated(t *testing.T) {
	tf, err := parser.Parse("page.templ")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := generator.Generate(tf, &b, generator.WithVersion(templ.Version()), generator.WithFileName("web/page.templ")); err != nil {
		t.Fatal(err)
	}
	want, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("page_templ.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("page_templ.go is out of date: run `go tool templ generate` at the repository root")
	}
}
