package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/pkttap/pkttap/coloring"
	"github.com/pkttap/pkttap/dfilter"
)

// colorSets holds the rule sets pages color their rows with, each compiled
// once while it is in use. The rules live in the browser (its
// preferences); the server keeps nothing else of them. A compiled set
// depends on its text only, so servers may share them.
var colorSets = coloring.NewCache(32)

// colorRules reads the coloring rules of a rows request, ?color= once per
// rule in order (display filters), and returns their compiled set, nil
// for none; its error says what is too many or too long.
func colorRules(q url.Values) (*coloring.Set, error) {
	exprs := q["color"]
	if len(exprs) == 0 {
		return nil, nil
	}
	if len(exprs) > coloring.MaxRules {
		return nil, fmt.Errorf("at most %d coloring rules (parameter color), not %d", coloring.MaxRules, len(exprs))
	}
	for i, e := range exprs {
		if len(e) > coloring.MaxRuleLen {
			return nil, fmt.Errorf("coloring rule %d is %d bytes long: at most %d", i+1, len(e), coloring.MaxRuleLen)
		}
	}
	return colorSets.Get(exprs), nil
}

// ColoringRule is a coloring rule as GET /api/coloring lists it: the rule,
// and whether pkttap can evaluate it, or why not (the display filter's
// compile error and its column).
type ColoringRule struct {
	coloring.Rule
	Available bool   `json:"available"`
	Error     string `json:"error,omitempty"`
	Column    int    `json:"column,omitempty"`
}

// handleColoring lists Wireshark's default coloring rules, in its order,
// each available or not (with the reason).
func (s *Server) handleColoring(w http.ResponseWriter, r *http.Request) {
	defs := coloring.Defaults()
	exprs := make([]string, len(defs))
	for i, d := range defs {
		exprs[i] = d.Filter
	}
	set := colorSets.Get(exprs)
	out := make([]ColoringRule, len(defs))
	for i, d := range defs {
		out[i] = ColoringRule{Rule: d, Available: set.Rules[i].Filter != nil}
		if err := set.Rules[i].Err; err != nil {
			var de *dfilter.Error
			if errors.As(err, &de) {
				out[i].Error, out[i].Column = de.Msg, de.Column
			} else {
				out[i].Error = err.Error()
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": out})
}
