package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/store"
)

// maxFieldColumns is the most custom columns a rows request may ask for.
const maxFieldColumns = 32

// SortStatus is the progress of a sort as the API reports it.
type SortStatus = store.SortStatus

// sortSpec reads ?sort= (a column: no, time, iface, src, dst, proto, len, info or
// a field name) and ?order= (asc, the default, or desc); ok is false, the
// error written, when they are wrong; spec.Column is "" without ?sort=.
func sortSpec(w http.ResponseWriter, r *http.Request) (spec store.SortSpec, ok bool) {
	q := r.URL.Query()
	spec.Column = strings.TrimSpace(q.Get("sort"))
	switch o := q.Get("order"); o {
	case "", "asc":
	case "desc":
		spec.Descending = true
	default:
		writeError(w, http.StatusBadRequest, "parameter order must be asc or desc, not "+strconv.Quote(o))
		return spec, false
	}
	return spec, true
}

// sortOf returns the sort by spec of the packets of j (every packet when
// j is nil), starting it when needed; it writes the error and returns nil
// for a column that cannot be sorted by.
func (s *Server) sortOf(w http.ResponseWriter, c *store.Store, spec store.SortSpec, j *store.Job) *store.Sort {
	so, err := c.StartSort(spec, j)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, store.ErrSortColumn) {
			status = http.StatusBadRequest
		}
		writeError(w, status, err.Error())
		return nil
	}
	return so
}

// waitSort waits until so is done or the request ends; it writes the
// error and returns false when the sort failed or the client has gone.
func waitSort(w http.ResponseWriter, r *http.Request, so *store.Sort) bool {
	select {
	case <-so.Done():
	case <-r.Context().Done():
		return false
	}
	if st := so.Status(); st.Error != "" {
		writeError(w, http.StatusConflict, st.Error+": sort again")
		return false
	}
	return true
}

// sortedRows answers a rows request with ?sort=: the rows of the sort
// once it is done (it waits for it, started by POST …/sort or by this
// request).
func (s *Server) sortedRows(w http.ResponseWriter, r *http.Request, c *store.Store, spec store.SortSpec, j *store.Job, opts dissect.Options) (*store.Page, *SortStatus, bool) {
	so := s.sortOf(w, c, spec, j)
	if so == nil || !waitSort(w, r, so) {
		return nil, nil, false
	}
	start, _ := intParam(r, "start", 0)
	count, _ := intParam(r, "count", 100)
	page, err := c.SortedRows(start, count, so, opts)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return nil, nil, false
	}
	st := so.Status()
	return &page, &st, true
}

// fieldNames reads ?fields= (field names separated by ','), the custom
// columns of a rows request; its error names an unknown field, or says
// there are too many.
func fieldNames(q url.Values) ([]string, error) {
	list := strings.TrimSpace(q.Get("fields"))
	if list == "" {
		return nil, nil
	}
	names := strings.Split(list, ",")
	if len(names) > maxFieldColumns {
		return nil, errors.New("parameter fields names " + strconv.Itoa(len(names)) + " fields, at most " + strconv.Itoa(maxFieldColumns))
	}
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		if err := store.CheckField(names[i]); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// handleSort starts, unless it runs or is done, the sort by ?sort= and
// ?order= of the packets of ?filter= (every packet without one) and
// answers its progress (GET and POST alike, so that polling it is one
// request); DELETE cancels it.
func (s *Server) handleSort(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	spec, ok := sortSpec(w, r)
	if !ok {
		return
	}
	if spec.Column == "" {
		writeError(w, http.StatusBadRequest, "parameter sort is missing: name a column (no, time, iface, src, dst, proto, len, info or a field)")
		return
	}
	expr := store.NormalizeFilter(r.URL.Query().Get("filter"))
	if r.Method == http.MethodDelete {
		if !c.CancelSort(spec, expr) {
			writeError(w, http.StatusNotFound, "no sort by "+strconv.Quote(spec.Column))
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var j *store.Job
	if expr != "" {
		if j = s.job(w, r, c, expr); j == nil {
			return
		}
	}
	if so := s.sortOf(w, c, spec, j); so != nil {
		writeJSON(w, http.StatusOK, so.Status())
	}
}

// sortedPosition answers a position request with ?sort=: where packet no
// is in the sort's order, or (exact false) the next packet in capture
// order that it displays.
func (s *Server) sortedPosition(w http.ResponseWriter, r *http.Request, c *store.Store, spec store.SortSpec, j *store.Job, no int) {
	so := s.sortOf(w, c, spec, j)
	if so == nil || !waitSort(w, r, so) {
		return
	}
	pos, exact, found, err := so.SortedPosition(no)
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	case !found:
		writeError(w, http.StatusNotFound, "neither packet "+strconv.Itoa(no)+" nor any after it is displayed")
	default:
		writeJSON(w, http.StatusOK, map[string]any{"position": pos, "exact": exact, "displayed": so.Status().Total})
	}
}
