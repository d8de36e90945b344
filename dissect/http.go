package dissect

import "bytes"

var httpMethods = [...]string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "TRACE ", "PATCH ", "M-SEARCH ", "NOTIFY ", "SUBSCRIBE ", "UNSUBSCRIBE ", "PROPFIND "}

// http decodes an HTTP/1.x (or SSDP) message's start line and headers.
func (d *decoder) http(off, end int, field, title, proto string) {
	b := d.bytes(off, end-off)
	isReq, isResp := false, bytes.HasPrefix(b, []byte("HTTP/1."))
	if !isResp {
		for _, m := range httpMethods {
			if len(b) >= len(m) && string(b[:len(m)]) == m {
				isReq = true
				break
			}
		}
	}
	d.setProto(proto)
	n := d.layer(field, title, off, end-off)
	if !isReq && !isResp {
		if d.infoReset() {
			d.is("Continuation")
		}
		d.fBytes(n, "data.data", "Data", off, end-off)
		return
	}
	// The start line.
	eol := bytes.IndexByte(b, '\n')
	lineEnd := len(b)
	if eol >= 0 {
		lineEnd = eol + 1
	}
	line := b[:lineEnd]
	text := bytes.TrimRight(line, "\r\n")
	if d.infoReset() {
		d.info = appendPrintable(d.info, text, 200)
		// Wireshark names the body's media type when the body is in the packet.
		if httpHasBody(b[lineEnd:]) {
			if ct := httpHeader(b[lineEnd:], "content-type"); len(ct) > 0 {
				if i := bytes.IndexByte(ct, ';'); i >= 0 {
					ct = ct[:i]
				}
				d.is("  (")
				d.info = appendPrintable(d.info, bytes.TrimSpace(ct), 100)
				d.is(")")
			}
		}
	}
	if n == nil {
		return
	}
	sl := d.add(n, "", string(appendPrintable(nil, line, 200)), off, lineEnd)
	parts := bytes.SplitN(text, []byte(" "), 3)
	pos := off
	if isReq {
		names := [3]string{"http.request.method", "http.request.uri", "http.request.version"}
		labels := [3]string{"Request Method", "Request URI", "Request Version"}
		for i, p := range parts {
			d.fText(sl, names[i], labels[i], pos, len(p))
			pos += len(p) + 1
		}
	} else {
		names := [3]string{"http.response.version", "http.response.code", "http.response.phrase"}
		labels := [3]string{"Response Version", "Status Code", "Response Phrase"}
		for i, p := range parts {
			f := d.fText(sl, names[i], labels[i], pos, len(p))
			if code, ok := atou(p); ok && i == 1 {
				setU(f, code)
			}
			pos += len(p) + 1
		}
	}
	// Wireshark's generated fields: the message kind and the full URI.
	if isReq {
		setBool(d.add(n, "http.request", "Request: True", off, 0), true)
		if host := httpHeader(b[lineEnd:], "host"); len(host) > 0 && len(parts) > 1 {
			uri := string(parts[1])
			if !bytes.Contains(parts[1], []byte("://")) {
				uri = "http://" + string(host) + uri
			}
			setS(d.add(n, "http.request.full_uri", "Full request URI: "+uri, off, 0), uri)
		}
	} else {
		setBool(d.add(n, "http.response", "Response: True", off, 0), true)
	}
	// Header lines up to the empty line.
	lineField := field + ".request.line"
	if isResp {
		lineField = field + ".response.line"
	}
	o := lineEnd
	for i := 0; o < len(b) && i < maxItems*2; i++ {
		e := bytes.IndexByte(b[o:], '\n')
		if e < 0 {
			d.fText(n, "", "[Unterminated header]", off+o, len(b)-o)
			return
		}
		hl := b[o : o+e+1]
		if len(bytes.TrimRight(hl, "\r\n")) == 0 {
			d.add(n, "", "\\r\\n", off+o, len(hl))
			o += len(hl)
			if o < len(b) {
				fd := d.add(n, "http.file_data", "File Data: "+itoaBytes(len(b)-o), off+o, len(b)-o)
				d.fBytes(fd, "data.data", "Data", off+o, len(b)-o)
				d.fUint(fd, "data.len", "Length", off+o, 0, uint64(len(b)-o))
			}
			return
		}
		h := d.add(n, lineField, string(appendPrintable(nil, hl, 200)), off+o, len(hl))
		if c := bytes.IndexByte(hl, ':'); c > 0 && h != nil {
			// Wireshark's named header fields cover the whole line.
			// Their label is the line itself, as the line's; their value
			// is the header's value. SSDP messages have them too.
			value := string(bytes.TrimSpace(hl[c+1:]))
			switch string(bytes.ToLower(hl[:c])) {
			case "host":
				setS(d.add(h, "http.host", h.Label, off+o, len(hl)), value)
			case "user-agent":
				setS(d.add(h, "http.user_agent", h.Label, off+o, len(hl)), value)
			case "content-type":
				setS(d.add(h, "http.content_type", h.Label, off+o, len(hl)), value)
			}
		}
		o += len(hl)
	}
}

func itoaBytes(n int) string { return string(appendUint(nil, uint64(n))) + " bytes" }

// httpHasBody reports whether the header block b is followed by body bytes.
func httpHasBody(b []byte) bool {
	for i := 0; len(b) > 0 && i < maxItems*2; i++ {
		e := bytes.IndexByte(b, '\n')
		if e < 0 {
			return false
		}
		if len(bytes.TrimRight(b[:e], "\r")) == 0 {
			return e+1 < len(b)
		}
		b = b[e+1:]
	}
	return false
}

// httpHeader returns the value of the named header (lower case) in the
// header block b, or nil.
func httpHeader(b []byte, name string) []byte {
	for i := 0; len(b) > 0 && i < maxItems*2; i++ {
		e := bytes.IndexByte(b, '\n')
		if e < 0 {
			return nil
		}
		line := bytes.TrimRight(b[:e], "\r")
		if len(line) == 0 {
			return nil
		}
		if len(line) > len(name) && line[len(name)] == ':' && asciiEqualFold(line[:len(name)], name) {
			return bytes.TrimSpace(line[len(name)+1:])
		}
		b = b[e+1:]
	}
	return nil
}

func asciiEqualFold(b []byte, lower string) bool {
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// atou parses a decimal number of up to 9 digits.
func atou(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}
