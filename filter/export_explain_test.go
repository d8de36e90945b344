package filter

import (
	"math/rand/v2"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// RandomExprs returns n expressions of the differential tests' random
// generator, for the explain property test (package filter_test).
func RandomExprs(seed uint64, n int) []string {
	g := &exprGen{r: rand.New(rand.NewPCG(seed, seed))}
	out := make([]string, n)
	for i := range out {
		out[i] = g.expr(3)
	}
	return out
}

// CorpusPacket is a packet of the shared corpus.
type CorpusPacket struct {
	File     string
	LinkType pcapio.LinkType
	Data     []byte
	WireLen  int
}

// CorpusPackets returns the packets of the shared corpus of link type lt.
func CorpusPackets(t testing.TB, lt pcapio.LinkType) []CorpusPacket {
	var out []CorpusPacket
	for _, cf := range loadCorpus(t) {
		if cf.linkType != lt {
			continue
		}
		for _, p := range cf.packets {
			out = append(out, CorpusPacket{File: cf.name, LinkType: lt, Data: p.data, WireLen: p.wireLen})
		}
	}
	return out
}

// RandomSeed is the seed of the random tests (PKTTAP_RANDOM_SEED).
func RandomSeed(t testing.TB) int64 { return randomSeed(t) }
