package filter

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// TestCompileConcurrently compiles the shared public expressions from
// several goroutines at once, as the web server does, and requires each
// program and source map to be the one a lone Compile makes: the
// optimizer's state is reused between calls (a pool), never shared by two.
func TestCompileConcurrently(t *testing.T) {
	exprs, err := golden.ReadExprList(filepath.Join(testenv.SharedDir(t), "filters", "public.txt"))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{LinkType: pcapio.LinkTypeEthernet}
	want := make([]string, len(exprs))
	for i, e := range exprs {
		want[i] = compiledImage(t, e, opts)
	}
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker takes the expressions in its own order, so that
			// long and short programs overlap.
			order := make([]int, len(exprs))
			for i := range order {
				order[i] = (i*(2*w+1) + w) % len(exprs)
			}
			for _, i := range order {
				if got := compiledImage(t, exprs[i], opts); got != want[i] {
					errs <- exprs[i] + ":\n" + got + "\nwant:\n" + want[i]
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a concurrent compile differs from a lone one: %s", e)
	}
}

// compiledImage is the annotated listing of expr's program (instructions
// and origins), or its error.
func compiledImage(t *testing.T, expr string, opts Options) string {
	p, err := Compile(expr, opts)
	if err != nil {
		return "error: " + err.Error()
	}
	return p.Annotated()
}
