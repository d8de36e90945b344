package main

import (
	"fmt"
	"io"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/explain"
	"github.com/pkttap/pkttap/pcapio"
)

// explainers explains one filter expression on packets of any link type,
// compiling it once per link type met.
type explainers struct {
	expr  string
	opts  filter.Options
	byLT  map[pcapio.LinkType]*explain.Explainer
	errLT map[pcapio.LinkType]error
}

// explain writes why packet p matches the expression or not.
func (e *explainers) explain(w io.Writer, p *pcapio.Packet) error {
	if e.byLT == nil {
		e.byLT, e.errLT = map[pcapio.LinkType]*explain.Explainer{}, map[pcapio.LinkType]error{}
	}
	x, ok := e.byLT[p.LinkType]
	if !ok {
		opts := e.opts
		opts.LinkType = p.LinkType
		var err error
		if x, err = explain.New(e.expr, opts); err != nil {
			e.errLT[p.LinkType] = err
		}
		e.byLT[p.LinkType] = x
	}
	if x == nil {
		_, err := fmt.Fprintf(w, "why: %v\n", e.errLT[p.LinkType])
		return err
	}
	_, err := fmt.Fprintf(w, "why %s:\n%s", e.expr, x.Explain(p.Data, p.Length, nil))
	return err
}
