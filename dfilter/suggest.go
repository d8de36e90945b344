package dfilter

import "github.com/pkttap/pkttap/dissect"

// suggest returns the registered name closest to an unknown one, or ""
// when none is close: at most a third of its length in edits away.
func suggest(name string) string {
	best, bestD := "", len(name)/3+1
	for _, f := range dissect.Fields() {
		if abs(len(f.Name)-len(name)) >= bestD {
			continue
		}
		if d := editDistance(name, f.Name, bestD); d < bestD {
			best, bestD = f.Name, d
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Levenshtein distance of a and b, or limit when it
// is at least limit.
func editDistance(a, b string, limit int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
