package filter

// Primitives pkttap does not compile yet. Each fails with an error that
// names the primitive, so no expression silently compiles to something
// libpcap would not produce.

func (c *compiler) notYet(what string) {
	c.errorf("%s is not supported by pkttap's filter compiler yet", what)
}

func (c *compiler) genGeneveLLCheck() *block       { c.notYet("geneve"); return nil }
func (c *compiler) genGeneve(uint32, bool) *block  { c.notYet("'geneve'"); return nil }
func (c *compiler) genDNHostop(uint32, int) *block { c.notYet("DECnet host"); return nil }

func atodn(string) (uint32, bool) { return 0, false }
