package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pkttap/pkttap/dissect"
)

// optionsParam reads the query parameters that change how packets are
// decoded: ?checksums= (see checksumsParam) and ?names=, the name
// resolutions to make, tshark -N's letters: m resolves MAC addresses to
// vendor and well-known names, t transport ports to service names; none
// (the default, as in Wireshark's profile tshark -n uses) without it. It writes 400 for a
// value it does not know.
func optionsParam(w http.ResponseWriter, r *http.Request) (dissect.Options, bool) {
	return fromQuery(w, r, decodeOptions)
}

// decodeOptions reads ?checksums= and ?names= (see optionsParam); its
// error says which value it does not know.
func decodeOptions(q url.Values) (dissect.Options, error) {
	o, err := checksumsOf(q)
	if err != nil {
		return o, err
	}
	v := q.Get("names")
	for _, c := range v {
		switch c {
		case 'm':
			o.ResolveMAC = true
		case 't':
			o.ResolvePorts = true
		default:
			return o, errors.New("parameter names takes m (MAC addresses) and t (transport ports), not " + strconv.Quote(v))
		}
	}
	return o, nil
}
