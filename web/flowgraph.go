package web

import (
	"cmp"
	"slices"
)

// FlowGraph is a BPF program's control-flow graph, laid out for drawing:
// its basic blocks as boxes (pixel coordinates, top left origin) and the
// jumps between them as edges from the bottom of one box to the top of
// another. Classic BPF jumps only forward, so the graph is acyclic and
// each block is drawn in a layer below every block that jumps to it; the
// one exception, the loop libpcap compiles protochain into (a ja with a
// negative offset), is an edge marked Back, drawn upwards.
type FlowGraph struct {
	Width  int         `json:"width"`
	Height int         `json:"height"`
	Blocks []FlowBlock `json:"blocks"`
	Edges  []FlowEdge  `json:"edges"`
}

// FlowBlock is a basic block: instructions First through Last, drawn as a
// box of one line per instruction.
type FlowBlock struct {
	First int `json:"first"`
	Last  int `json:"last"`
	Layer int `json:"layer"`
	X     int `json:"x"`
	Y     int `json:"y"`
	W     int `json:"w"`
	H     int `json:"h"`
}

// FlowEdge is a jump from block From to block To: Kind "true" and "false"
// are a conditional jump's two ways, "next" the way on to the following
// instruction or an unconditional jump. (X1, Y1) is where it leaves From,
// (X2, Y2) where it enters To.
type FlowEdge struct {
	From int    `json:"from"`
	To   int    `json:"to"`
	Kind string `json:"kind"`
	Back bool   `json:"back,omitempty"` // a jump backwards (To <= From)
	X1   int    `json:"x1"`
	Y1   int    `json:"y1"`
	X2   int    `json:"x2"`
	Y2   int    `json:"y2"`
}

// The graph's metrics, in pixels, for the page's 12 px monospace text.
const (
	flowCharW  = 7.3 // width of a character
	flowLineH  = 16  // height of a line
	flowPad    = 8   // padding inside a box
	flowGapX   = 36  // between boxes of a layer
	flowGapY   = 48  // between layers
	flowMargin = 12  // around the drawing
)

// layoutFlowGraph splits the program into basic blocks, puts each in the
// layer after the deepest block that jumps to it (returns in the last
// layer, where the many jumps to them end), orders each layer by the
// mean position of the blocks jumping to it (fewer crossings), and
// centres the layers.
func layoutFlowGraph(insns []ExploreInsn) *FlowGraph {
	g := &FlowGraph{}
	n := len(insns)
	if n == 0 {
		return g
	}
	leader := make([]bool, n+1)
	leader[0] = true
	for pc, in := range insns {
		for _, t := range []int{in.Jt, in.Jf} {
			if t >= 0 && t < n {
				leader[t] = true
			}
		}
		if in.Jt >= 0 || in.Return {
			leader[pc+1] = true
		}
	}
	blockOf := make([]int, n)
	for pc := 0; pc < n; pc++ {
		if leader[pc] {
			g.Blocks = append(g.Blocks, FlowBlock{First: pc})
		}
		b := len(g.Blocks) - 1
		g.Blocks[b].Last = pc
		blockOf[pc] = b
	}
	// Edges, from each block's last instruction.
	for b, blk := range g.Blocks {
		last := insns[blk.Last]
		switch {
		case last.Return:
		case last.Jt >= 0 && last.Jf >= 0:
			g.Edges = append(g.Edges, FlowEdge{From: b, To: blockOf[last.Jt], Kind: "true"}, FlowEdge{From: b, To: blockOf[last.Jf], Kind: "false"})
		case last.Jt >= 0:
			g.Edges = append(g.Edges, FlowEdge{From: b, To: blockOf[last.Jt], Kind: "next"})
		case blk.Last+1 < n:
			g.Edges = append(g.Edges, FlowEdge{From: b, To: b + 1, Kind: "next"})
		}
	}
	// Layers: longest path from the entry; returns all in the last.
	layers := 0
	for i, e := range g.Edges { // forward edges come in block order
		if e.To <= e.From {
			g.Edges[i].Back = true
			continue
		}
		g.Blocks[e.To].Layer = max(g.Blocks[e.To].Layer, g.Blocks[e.From].Layer+1)
	}
	for _, b := range g.Blocks {
		layers = max(layers, b.Layer+1)
	}
	for i, b := range g.Blocks {
		if insns[b.First].Return && b.First == b.Last && i > 0 {
			g.Blocks[i].Layer = layers - 1
		}
	}
	// Sizes.
	for i, b := range g.Blocks {
		w := 0
		for pc := b.First; pc <= b.Last; pc++ {
			w = max(w, len("(000) ")+len(insns[pc].Label))
		}
		g.Blocks[i].W = int(float64(w)*flowCharW) + 2*flowPad
		g.Blocks[i].H = (b.Last-b.First+1)*flowLineH + flowPad
	}
	// Order within layers: block order first, then the mean x of the
	// blocks that jump to each, layer by layer.
	byLayer := make([][]int, layers)
	for i, b := range g.Blocks {
		byLayer[b.Layer] = append(byLayer[b.Layer], i)
	}
	preds := make([][]int, len(g.Blocks))
	for _, e := range g.Edges {
		if !e.Back {
			preds[e.To] = append(preds[e.To], e.From)
		}
	}
	place := func() {
		for _, row := range byLayer {
			x := 0
			for _, b := range row {
				g.Blocks[b].X = x
				x += g.Blocks[b].W + flowGapX
			}
		}
	}
	place()
	for l := 1; l < layers; l++ {
		centre := func(b int) float64 {
			if len(preds[b]) == 0 {
				return float64(g.Blocks[b].X)
			}
			sum := 0.0
			for _, p := range preds[b] {
				sum += float64(g.Blocks[p].X + g.Blocks[p].W/2)
			}
			return sum / float64(len(preds[b]))
		}
		keys := map[int]float64{}
		for _, b := range byLayer[l] {
			keys[b] = centre(b)
		}
		slices.SortStableFunc(byLayer[l], func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
		place()
	}
	// Centre each layer on the widest, then the vertical positions.
	widths := make([]int, layers)
	for l, row := range byLayer {
		for k, b := range row {
			widths[l] += g.Blocks[b].W
			if k > 0 {
				widths[l] += flowGapX
			}
		}
		g.Width = max(g.Width, widths[l])
	}
	y := flowMargin
	for l, row := range byLayer {
		h := 0
		for _, b := range row {
			g.Blocks[b].X += flowMargin + (g.Width-widths[l])/2
			g.Blocks[b].Y = y
			h = max(h, g.Blocks[b].H)
		}
		y += h + flowGapY
	}
	g.Width += 2 * flowMargin
	g.Height = y - flowGapY + flowMargin
	// Edge ends: a conditional jump leaves from the left (true) and right
	// (false) thirds of its box, the others from its middle; every edge
	// enters the middle of its target's top.
	for i, e := range g.Edges {
		f, t := g.Blocks[e.From], g.Blocks[e.To]
		x1 := f.X + f.W/2
		switch e.Kind {
		case "true":
			x1 = f.X + f.W/3
		case "false":
			x1 = f.X + 2*f.W/3
		}
		g.Edges[i].X1, g.Edges[i].Y1 = x1, f.Y+f.H
		g.Edges[i].X2, g.Edges[i].Y2 = t.X+t.W/2, t.Y
	}
	return g
}
