package web

import (
	"net/url"

	"github.com/pkttap/pkttap/coloring"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/store"
)

// rowView is how a packet list wants its rows, the same whether it asks
// for them (GET …/rows) or follows a capture's end over the WebSocket
// (see pusher): the decoding options (?checksums=, ?names=), the coloring
// rules (?color=) and the custom columns (?fields=).
type rowView struct {
	opts   dissect.Options
	colors *coloring.Set
	fields []string
}

// parseRowView reads a rowView from a rows request's query; its error is
// the message of a 400 answer.
func parseRowView(q url.Values) (v rowView, err error) {
	if v.opts, err = decodeOptions(q); err != nil {
		return v, err
	}
	if v.colors, err = colorRules(q); err != nil {
		return v, err
	}
	v.fields, err = fieldNames(q)
	return v, err
}

// decorate gives rows (from store.Rows or store.SortedRows with v.opts)
// what the view adds to them: the index of the first coloring rule each
// matches, and the custom columns' text of each (nil without any), as
// tshark -T fields -e writes it.
func (v rowView) decorate(c *store.Store, rows []Row) ([][]string, error) {
	if v.colors != nil {
		if err := c.Colorize(rows, v.colors, v.opts); err != nil {
			return nil, err
		}
	}
	if len(v.fields) == 0 {
		return nil, nil
	}
	nos := make([]int, len(rows))
	for k, row := range rows {
		nos[k] = row.No
	}
	return c.FieldColumns(nos, v.fields)
}
