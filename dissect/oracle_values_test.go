package dissect

// Field values compared with tshark's: for every field both decode at the
// same position, pkttap's value (the part of its label after "Name: ") must
// be tshark's PDML "show" value once both are written the same way:
//
//   - numbers in decimal or 0x-hex are compared as numbers; pkttap's
//     "described (0x06)" and "(6) described" match either the number or the
//     description; "20 bytes (5)" is the number 20;
//   - a flag's "Set"/"Not set" is tshark's 1/0 (or True/False);
//   - byte strings: tshark writes "0a:1b", pkttap "0a1b" (or a 0x-hex
//     number), cut after 32 bytes with "…"; tshark cuts long ones too;
//   - pkttap's annotations in brackets ("0x1c2 [SYN, ACK]", "0xf695
//     [correct]") are not part of the value;
//   - text: pkttap escapes CR and LF ("Host: a\r\n"); tshark keeps the
//     header name out of the field's value but in http.request.line;
//   - a field tshark gives no value (FT_NONE, a protocol or a text line:
//     show="") and a pkttap node that is a title, not "Name: value" (such
//     as "TCP Option - Timestamps", whose bytes tshark shows), have nothing
//     to compare: their positions and sizes are compared all the same.
//
// The deliberate differences beyond these are the valueRules table.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// valueRule is a field whose value pkttap writes differently from tshark
// on purpose. agree decides whether the two values agree; nil means the
// value is not compared (its position and size still are).
type valueRule struct {
	reason string
	agree  func(mine, theirs string) bool
}

// valueRules lists, per field, the deliberate differences between pkttap's
// values and tshark's, each with its reason.
var valueRules = map[string]valueRule{
	"ip.frag_offset": {"tshark's show is the raw 13-bit field (8-byte units); pkttap, like tshark's showname, gives bytes",
		func(m, t string) bool {
			n, err := strconv.ParseUint(t, 10, 64)
			return err == nil && canonValue(m) == strconv.FormatUint(n*8, 10)
		}},
	"dhcp.option.type": {"tshark gives the End option (255) the value 0",
		func(m, t string) bool { return strings.HasPrefix(m, "(255) ") && t == "0" || genericAgree(m, t) }},
	"ntp.reftime": {ntpTimeReason, ntpTimeAgree},
	"ntp.org":     {ntpTimeReason, ntpTimeAgree},
	"ntp.rec":     {ntpTimeReason, ntpTimeAgree},
	"ntp.xmt":     {ntpTimeReason, ntpTimeAgree},
	"igmp.max_resp": {"tshark's show is in tenths of a second; pkttap, like tshark's showname, gives seconds and the code",
		func(m, t string) bool {
			sec, _, ok := strings.Cut(m, " sec")
			f, err := strconv.ParseFloat(sec, 64)
			return ok && err == nil && strconv.FormatInt(int64(f*10+0.5), 10) == t
		}},
	"dhcp.cookie": {"tshark writes the magic cookie as an IPv4 address, pkttap as a number",
		func(m, t string) bool {
			n, err := strconv.ParseUint(strings.TrimPrefix(m, "0x"), 16, 32)
			return err == nil && t == fmt.Sprintf("%d.%d.%d.%d", n>>24, n>>16&0xff, n>>8&0xff, n&0xff)
		}},
	"ip.checksum.status":     checksumStatusRule,
	"tcp.checksum.status":    checksumStatusRule,
	"udp.checksum.status":    checksumStatusRule,
	"sctp.checksum.status":   checksumStatusRule,
	"icmp.checksum.status":   checksumStatusRule,
	"icmpv6.checksum.status": checksumStatusRule,
	"igmp.checksum.status":   checksumStatusRule,
	"tcp.options":            {"pkttap's value is the options' size, which the size check compares; tshark's is their bytes", nil},
	"http.file_data":         {"pkttap's value is the body's size, which the size check compares; tshark's is its text", nil},
}

// checksumStatusRule compares a checksum's status line, which pkttap writes
// in words as tshark's -V does ("[Checksum Status: Unverified]"), with
// tshark's show value, the status's number.
var checksumStatusRule = valueRule{"tshark's show is the status's number (0 bad, 1 good, 2 unverified, 3 not present), pkttap's label its word, as tshark -V writes it",
	func(m, t string) bool {
		n, ok := map[string]string{"Bad]": "0", "Good]": "1", "Unverified]": "2", "Not present]": "3"}[m]
		return ok && n == t
	}}

const ntpTimeReason = "tshark writes an NTP timestamp as a date (\"NULL\" for 0), pkttap as the raw 64-bit value; the corpus has only zero ones"

func ntpTimeAgree(m, t string) bool { return t == "NULL" && canonValue(m) == "0" }

// labelValue returns the value part of a pkttap label, what follows the
// first ": " ("Source Port: 443" gives "443"), or "" for a title without a
// value. A header line (http.request.line) is its own value.
func labelValue(field, label string) string {
	if strings.HasSuffix(field, ".request.line") || strings.HasSuffix(field, ".response.line") {
		return label
	}
	if i := strings.Index(label, ": "); i >= 0 {
		return label[i+2:]
	}
	return ""
}

// canonValue brings a number written in decimal or 0x-hex to decimal, and
// tshark's boolean words to 1 and 0; anything else is returned trimmed.
func canonValue(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") {
		if n, err := strconv.ParseUint(s[2:], 16, 64); err == nil {
			return strconv.FormatUint(n, 10)
		}
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return strconv.FormatUint(n, 10)
	}
	switch s {
	case "True":
		return "1"
	case "False":
		return "0"
	}
	return s
}

// reBracket is an annotation pkttap puts after a value.
var reBracket = regexp.MustCompile(`\s*\[[^\]]*\]$`)

// myValueForms returns the forms in which tshark may write pkttap's value.
func myValueForms(v string) []string {
	v = strings.TrimSuffix(strings.TrimSuffix(v, `\n`), `\r`)
	v = reBracket.ReplaceAllString(v, "")
	forms := []string{canonValue(v), v}
	if isColonHex(v) { // a MAC address
		forms = append(forms, strings.ReplaceAll(v, ":", ""))
	}
	if first, rest, ok := strings.Cut(v, " "); ok && strings.HasPrefix(first, "0x") && strings.HasPrefix(rest, "incorrect") {
		forms = append(forms, canonValue(first)) // "0x4a70 incorrect, should be 0x3baf"
	}
	switch v {
	case "Set":
		forms = append(forms, "1")
	case "Not set":
		forms = append(forms, "0")
	}
	if strings.HasSuffix(v, ")") { // "described (0x06)"
		if i := strings.LastIndex(v, " ("); i >= 0 {
			forms = append(forms, canonValue(v[i+2:len(v)-1]), canonValue(v[:i]))
		}
	}
	if strings.HasPrefix(v, "(") { // "(6) described"
		if i := strings.Index(v, ") "); i >= 0 {
			forms = append(forms, canonValue(v[1:i]), v[i+2:])
		}
	}
	if n, unit, ok := strings.Cut(v, " "); ok && strings.HasPrefix(unit, "bytes") { // "20 bytes (5)"
		forms = append(forms, canonValue(n))
	}
	if strings.HasPrefix(v, "0x") && len(v)%2 == 0 { // a number tshark shows as bytes
		forms = append(forms, v[2:])
	}
	return forms
}

// theirValue brings tshark's show value to pkttap's forms: byte strings
// lose their colons, text its line end.
func theirValue(s string) string {
	s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	if isColonHex(s) {
		return strings.ReplaceAll(s, ":", "")
	}
	return canonValue(s)
}

func isColonHex(s string) bool {
	if len(s) < 5 || len(s)%3 != 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i%3 == 2 {
			if c != ':' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// genericAgree compares pkttap's value with tshark's through the
// normalisations in the comment at the top of this file.
func genericAgree(mine, theirs string) bool {
	want := theirValue(theirs)
	for _, f := range myValueForms(mine) {
		if f == want {
			return true
		}
		if cut, ok := strings.CutSuffix(f, "…"); ok && strings.HasPrefix(want, cut) {
			return true // pkttap shows the first 32 bytes
		}
		if strings.HasSuffix(want, "…") && strings.HasPrefix(f, strings.TrimSuffix(want, "…")) {
			return true // tshark cuts long values
		}
	}
	return false
}

// valueCompared says whether a field's value is compared, and if so
// whether pkttap's agrees with tshark's.
func valueCompared(mine, theirs pdmlField) (compared, agree bool) {
	v := labelValue(mine.name, mine.show)
	if v == "" || theirs.show == "" {
		return false, false
	}
	if r, ok := valueRules[mine.name]; ok {
		if r.agree == nil {
			return false, false
		}
		return true, r.agree(v, theirs.show)
	}
	return true, genericAgree(v, theirs.show)
}
