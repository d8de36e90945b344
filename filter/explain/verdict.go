package explain

import (
	"fmt"
	"strings"
)

// Verdict recombines the outcomes of the terms with the expression's own
// and, or, not and parentheses, short-circuiting as the program does, and
// returns the verdict they give: a check that the explanation tells the
// whole story. A load that fell off the end of the packet rejects it
// whatever the terms. It fails when a term the expression needs was not
// evaluated.
//
// For a display filter, the terms' outcomes are recombined through Tree,
// and each evaluated term's checks must give its outcome under its
// quantifier.
func (x *Explanation) Verdict() (bool, error) {
	if x.Tree != nil {
		return x.displayVerdict()
	}
	if x.Fault != nil {
		return false, nil
	}
	if len(x.Terms) == 0 {
		return strings.TrimSpace(x.Expr) == "" || x.Match, nil
	}
	// The expression's skeleton: each term is one token; qualifier words
	// outside terms ("port" in "port (80 or 443)") are skipped.
	var toks []string
	var vals []int // term index for a "T" token
	pos := 0
	flush := func(s string) {
		s = strings.NewReplacer("(", " ( ", ")", " ) ", "&&", " and ", "||", " or ", "!", " not ").Replace(s)
		for _, w := range strings.Fields(s) {
			switch w {
			case "(", ")", "and", "or", "not":
				toks = append(toks, w)
				vals = append(vals, -1)
			}
		}
	}
	for i, t := range x.Terms {
		if t.Start < pos {
			return false, fmt.Errorf("explain: term %q overlaps the one before", t.Text)
		}
		flush(x.Expr[pos:t.Start])
		toks = append(toks, "T")
		vals = append(vals, i)
		pos = t.End
	}
	flush(x.Expr[pos:])
	e := &evaluator{x: x, toks: toks, vals: vals}
	v, err := e.or(true)
	if err != nil {
		return false, err
	}
	if e.p != len(toks) {
		return false, fmt.Errorf("explain: cannot read the expression's structure at token %d", e.p)
	}
	return v, nil
}

// evaluator evaluates the skeleton; need says whether the value matters
// (short-circuited operands are parsed without needing their terms).
type evaluator struct {
	x    *Explanation
	toks []string
	vals []int
	p    int
}

func (e *evaluator) peek() string {
	if e.p < len(e.toks) {
		return e.toks[e.p]
	}
	return ""
}

// or: unary { (and | or) unary }. As in libpcap, and and or have the
// same precedence and associate to the left.
func (e *evaluator) or(need bool) (bool, error) {
	v, err := e.unary(need)
	for err == nil && (e.peek() == "or" || e.peek() == "and") {
		op := e.peek()
		e.p++
		var r bool
		if op == "or" {
			r, err = e.unary(need && !v)
			v = v || r
		} else {
			r, err = e.unary(need && v)
			v = v && r
		}
	}
	return v, err
}

// unary: not unary | ( or ) | T
func (e *evaluator) unary(need bool) (bool, error) {
	switch e.peek() {
	case "not":
		e.p++
		v, err := e.unary(need)
		return !v, err
	case "(":
		e.p++
		v, err := e.or(need)
		if err == nil && e.peek() != ")" {
			err = fmt.Errorf("explain: unbalanced parentheses in the expression's structure")
		}
		e.p++
		return v, err
	case "T":
		t := e.x.Terms[e.vals[e.p]]
		e.p++
		return t.value(need)
	}
	return false, fmt.Errorf("explain: unexpected %q in the expression's structure", e.peek())
}

// value is a term's outcome as a truth value: an error when need says the
// verdict needs it and it was not evaluated (or failed).
func (t Term) value(need bool) (bool, error) {
	switch {
	case t.Outcome == True:
		return true, nil
	case t.Outcome == False:
		return false, nil
	case need:
		return false, fmt.Errorf("explain: term %q decides the verdict but is %s", t.Text, t.Outcome)
	}
	return false, nil
}
