package dissect

// tagMask is a set of row tints.
type tagMask uint8

const (
	tagSYN tagMask = 1 << iota
	tagFIN
	tagRST
	tagICMPError
	tagARP
	tagDNS
	tagBadChecksum
	numTags = iota
)

var tagNames = [numTags]string{"tcp-syn", "tcp-fin", "tcp-rst", "icmp-error", "arp", "dns", "bad-checksum"}

// tagSlices holds one shared slice per combination, so summaries never
// allocate for tags.
var tagSlices = func() [1 << numTags][]string {
	var t [1 << numTags][]string
	for m := 1; m < len(t); m++ {
		for i, n := range tagNames {
			if m&(1<<i) != 0 {
				t[m] = append(t[m], n)
			}
		}
		t[m] = t[m][:len(t[m]):len(t[m])]
	}
	return t
}()

func (m tagMask) slice() []string { return tagSlices[m] }
