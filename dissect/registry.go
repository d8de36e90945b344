package dissect

import (
	"sort"
	"sync"
)

// Base is how an integer field is displayed, as Wireshark's BASE_*.
type Base uint8

// The display bases.
const (
	BaseNone Base = iota // not an integer, or no preference
	BaseDec              // BASE_DEC
	BaseHex              // BASE_HEX
)

// String returns Wireshark's name of the base, such as "BASE_HEX".
func (b Base) String() string {
	switch b {
	case BaseDec:
		return "BASE_DEC"
	case BaseHex:
		return "BASE_HEX"
	}
	return "BASE_NONE"
}

// Field describes a field or protocol name of the registry: what its
// values are and how they are shown, as a Wireshark header field does.
type Field struct {
	// Name is the display-filter name, "tcp.srcport".
	Name string
	// Type is the type of the field's values.
	Type Type
	// Base is the display base of an integer field.
	Base Base
	// Description is the field's name in words, "Source Port".
	Description string
	// Alias names the fields whose values this one collects when it is
	// not decoded itself (ip.addr is ip.src and ip.dst); nil otherwise.
	Alias []string
	// Mask is the bits of an integer field within the bytes it covers
	// (0: all of them), as a Wireshark header field's bitmask.
	Mask uint64
}

// IsProtocol reports whether the name is a protocol's, not a field's.
func (f *Field) IsProtocol() bool { return f.Type == TypeProtocol }

// Parent returns the protocol a field belongs to: the name up to its first
// dot ("tcp" for "tcp.flags.syn"); a protocol (even a dotted one, such
// as "_ws.short") is its own parent.
func (f *Field) Parent() string {
	if f.IsProtocol() {
		return f.Name
	}
	for i := 0; i < len(f.Name); i++ {
		if f.Name[i] == '.' {
			return f.Name[:i]
		}
	}
	return f.Name
}

var (
	registryOnce sync.Once
	registry     map[string]*Field
	registryList []*Field
)

func loadRegistry() {
	registry = make(map[string]*Field, len(fieldTable))
	for i := range fieldTable {
		f := &fieldTable[i]
		registry[f.Name] = f
		registryList = append(registryList, f)
	}
	sort.Slice(registryList, func(i, j int) bool { return registryList[i].Name < registryList[j].Name })
}

// LookupField returns the registered field or protocol called name.
func LookupField(name string) (*Field, bool) {
	registryOnce.Do(loadRegistry)
	f, ok := registry[name]
	return f, ok
}

// Fields returns every registered field and protocol, sorted by name. The
// slice and its fields must not be modified.
func Fields() []*Field {
	registryOnce.Do(loadRegistry)
	return registryList
}
