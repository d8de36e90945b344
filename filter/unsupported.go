package filter

// Primitives pkttap does not compile yet. Each fails with an error that
// names the primitive, so no expression silently compiles to something
// libpcap would not produce.

func (c *compiler) notYet(what string) {
	c.errorf("%s is not supported by pkttap's filter compiler yet", what)
}

func (c *compiler) genGeneveLLCheck() *block            { c.notYet("geneve"); return nil }
func (c *compiler) genGeneve(uint32, bool) *block       { c.notYet("'geneve'"); return nil }
func (c *compiler) genProtochain(uint32, string) *block { c.notYet("'protochain'"); return nil }
func (c *compiler) genLLCPrimitive(string) *block       { c.notYet("'llc'"); return nil }
func (c *compiler) gen80211(*otherNode) *block          { c.notYet("802.11 type/subtype/dir"); return nil }
func (c *compiler) genDNHostop(uint32, int) *block      { c.notYet("DECnet host"); return nil }
func (c *compiler) genWLANHostop([]byte, int) *block    { c.notYet("802.11 addresses"); return nil }
func (c *compiler) genCheck80211DataFrame() *block      { c.notYet("IEEE802_11 link type"); return nil }
func (c *compiler) genLLCLinkType(uint32) *block        { c.notYet("IEEE802_11 link type"); return nil }
func (c *compiler) load80211HeaderLen([]*stmt) []*stmt  { return nil }

func atodn(string) (uint32, bool) { return 0, false }
