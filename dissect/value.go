package dissect

import (
	"strconv"
)

// Type is the type of a field's value, as Wireshark's ftenum: what a
// display filter may compare the field with.
type Type uint8

// The field types. Integer types carry their width, as Wireshark's do, so
// a filter can reject a constant too big for the field.
const (
	TypeNone     Type = iota // FT_NONE: a text line or a title, no value
	TypeProtocol             // FT_PROTOCOL: a protocol layer; its value is its bytes
	TypeBool                 // FT_BOOLEAN
	TypeUint8                // FT_UINT8
	TypeUint16               // FT_UINT16
	TypeUint24               // FT_UINT24
	TypeUint32               // FT_UINT32
	TypeUint64               // FT_UINT64
	TypeInt8                 // FT_INT8
	TypeInt16                // FT_INT16
	TypeInt32                // FT_INT32
	TypeInt64                // FT_INT64
	TypeIPv4                 // FT_IPv4: 4 bytes
	TypeIPv6                 // FT_IPv6: 16 bytes
	TypeEther                // FT_ETHER: a 6-byte MAC address
	TypeBytes                // FT_BYTES
	TypeString               // FT_STRING
	TypeTime                 // FT_ABSOLUTE_TIME: nanoseconds since 1970 in Value.N
	TypeRelTime              // FT_RELATIVE_TIME: nanoseconds in Value.N
	numTypes
)

var typeNames = [numTypes]string{"FT_NONE", "FT_PROTOCOL", "FT_BOOLEAN", "FT_UINT8", "FT_UINT16", "FT_UINT24", "FT_UINT32", "FT_UINT64",
	"FT_INT8", "FT_INT16", "FT_INT32", "FT_INT64", "FT_IPv4", "FT_IPv6", "FT_ETHER", "FT_BYTES", "FT_STRING", "FT_ABSOLUTE_TIME", "FT_RELATIVE_TIME"}

var typeDescs = [numTypes]string{"Label", "Protocol", "Boolean", "Unsigned integer (1 byte)", "Unsigned integer (2 bytes)",
	"Unsigned integer (3 bytes)", "Unsigned integer (4 bytes)", "Unsigned integer (8 bytes)", "Signed integer (1 byte)",
	"Signed integer (2 bytes)", "Signed integer (4 bytes)", "Signed integer (8 bytes)", "IPv4 address", "IPv6 address",
	"Ethernet or other MAC address", "Byte sequence", "Character string", "Date and time", "Time offset"}

// String returns Wireshark's name of the type, such as "FT_UINT16".
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return "FT_" + strconv.Itoa(int(t))
}

// Description returns the type's name in words, as tshark's messages give
// it: "Unsigned integer (2 bytes)".
func (t Type) Description() string {
	if t < numTypes {
		return typeDescs[t]
	}
	return t.String()
}

// IsUint reports whether t is an unsigned integer type.
func (t Type) IsUint() bool { return t >= TypeUint8 && t <= TypeUint64 }

// IsInt reports whether t is a signed integer type.
func (t Type) IsInt() bool { return t >= TypeInt8 && t <= TypeInt64 }

// Bits returns the width of an integer type in bits (1 for a boolean, 0
// for the other types).
func (t Type) Bits() int {
	switch t {
	case TypeBool:
		return 1
	case TypeUint8, TypeInt8:
		return 8
	case TypeUint16, TypeInt16:
		return 16
	case TypeUint24:
		return 24
	case TypeUint32, TypeInt32:
		return 32
	case TypeUint64, TypeInt64:
		return 64
	}
	return 0
}

// IsBytesLike reports whether a value of type t is a byte sequence that
// can be sliced and searched: bytes, addresses, strings and protocols.
func (t Type) IsBytesLike() bool {
	switch t {
	case TypeBytes, TypeEther, TypeIPv4, TypeIPv6, TypeString, TypeProtocol:
		return true
	}
	return false
}

// Value is a field's typed value. Which member holds it depends on Type:
// integers, booleans (0 or 1) and times are in N (a signed integer as its
// two's complement), strings in S, byte sequences, addresses and a
// protocol's bytes in B. B aliases the packet's data: it is valid as long
// as the data given to [Dissect] is.
type Value struct {
	Type Type
	N    uint64
	S    string
	B    []byte
}

// Int returns a signed integer value.
func (v Value) Int() int64 { return int64(v.N) }

// AppendText appends the value as tshark's -T fields prints it: integers
// in decimal (hexadecimal ones as 0x… with the field's width), addresses
// in their usual notation, bytes as colon-separated hex.
func (v Value) AppendText(b []byte, base Base) []byte {
	switch {
	case v.Type == TypeBool:
		if v.N != 0 {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case v.Type.IsUint():
		if base == BaseHex {
			return appendHex(b, v.N, v.Type.Bits()/4)
		}
		return strconv.AppendUint(b, v.N, 10)
	case v.Type.IsInt():
		return strconv.AppendInt(b, int64(v.N), 10)
	case v.Type == TypeIPv4 && len(v.B) == 4:
		return appendIPv4(b, v.B)
	case v.Type == TypeIPv6 && len(v.B) == 16:
		return appendIPv6(b, v.B)
	case v.Type == TypeEther && len(v.B) == 6:
		return appendMAC(b, v.B)
	case v.Type == TypeString:
		return append(b, v.S...)
	case v.Type == TypeBytes:
		for i, c := range v.B {
			if i > 0 {
				b = append(b, ':')
			}
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		return b
	case v.Type == TypeRelTime, v.Type == TypeTime:
		return strconv.AppendFloat(b, float64(int64(v.N))/1e9, 'f', 9, 64)
	}
	return b
}
