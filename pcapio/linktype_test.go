package pcapio

import (
	"regexp"
	"testing"
)

func TestLinkTypeNames(t *testing.T) {
	tests := []struct {
		lt            LinkType
		name, display string
	}{
		{LinkTypeEthernet, "EN10MB", "Ethernet"},
		{LinkTypeRaw, "RAW", "RawIp"},
		{LinkTypeLinuxSLL, "LINUX_SLL", "LinuxSll"},
		{LinkTypeLinuxSLL2, "LINUX_SLL2", "LinuxSll2"},
		{LinkTypeNull, "NULL", "Null"},
		{LinkTypeLoop, "LOOP", "Loop"},
		{LinkTypeIEEE802_11Radio, "IEEE802_11_RADIO", "Ieee802_11Radio"},
		{LinkType(147), "LINKTYPE_147", "Unknown(147)"},
	}
	for _, tt := range tests {
		if got := tt.lt.String(); got != tt.name {
			t.Errorf("LinkType(%d).String() = %q, want %q", uint32(tt.lt), got, tt.name)
		}
		if got := tt.lt.DisplayName(); got != tt.display {
			t.Errorf("LinkType(%d).DisplayName() = %q, want %q", uint32(tt.lt), got, tt.display)
		}
	}
	// Every named link type has a display name of its own, one word, and
	// its tcpdump name still reads back through LinkTypeFromName.
	word := regexp.MustCompile(`^[A-Z][A-Za-z0-9_]*$`)
	seen := map[string]LinkType{}
	for _, n := range linkTypeNames {
		d := n.lt.DisplayName()
		if !word.MatchString(d) {
			t.Errorf("LinkType(%d).DisplayName() = %q, not one capitalised word", uint32(n.lt), d)
		}
		if other, ok := seen[d]; ok {
			t.Errorf("link types %d and %d share the display name %q", uint32(other), uint32(n.lt), d)
		}
		seen[d] = n.lt
		if lt, err := LinkTypeFromName(n.lt.String()); err != nil || lt != n.lt {
			t.Errorf("LinkTypeFromName(%q) = %d, %v; want %d", n.lt.String(), uint32(lt), err, uint32(n.lt))
		}
	}
}
