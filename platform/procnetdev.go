package platform

import (
	"bytes"
	"strconv"
)

// parseProcNetDevDrops finds the named interface in the text of Linux's
// /proc/net/dev and returns its receive "drop" column (the fourth receive
// counter).
func parseProcNetDevDrops(text []byte, name string) (uint64, bool) {
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 || string(bytes.TrimSpace(line[:colon])) != name {
			continue
		}
		fields := bytes.Fields(line[colon+1:])
		if len(fields) < 4 {
			return 0, false
		}
		v, err := strconv.ParseUint(string(fields[3]), 10, 64)
		return v, err == nil
	}
	return 0, false
}
