package web

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// batchOf is a batch of rows [start, end) of view key, after skipped rows
// never produced, with a custom column naming each row's number.
func batchOf(key string, start, end, skipped, window int) *rowsPush {
	b := &rowsPush{Type: "rows", Capture: "c", Key: key, Start: start, Skipped: skipped, Total: end, Displayed: end, window: window}
	for pos := start; pos < end; pos++ {
		b.Rows = append(b.Rows, Row{No: pos + 1})
		b.Fields = append(b.Fields, []string{strconv.Itoa(pos + 1)})
	}
	return b
}

// TestPushQueueCoalesces checks the queue a connection's pushed rows wait
// in: batches put while nothing is taken are merged into one, trimmed to
// the newest window with the rest counted as skipped, a batch after a gap
// or of another view replaces what is pending, and every row pending is
// the row of its position (custom columns included).
func TestPushQueueCoalesces(t *testing.T) {
	type put struct {
		key                         string
		start, end, skipped, window int
	}
	tests := []struct {
		name  string
		limit int
		puts  []put
		// the pending batch
		key               string
		start, n, skipped int
		displayed         int
	}{
		{"one batch", 100, []put{{"a", 0, 10, 0, 50}}, "a", 0, 10, 0, 10},
		{"contiguous batches merge", 100, []put{{"a", 0, 10, 0, 50}, {"a", 10, 25, 0, 50}, {"a", 25, 30, 0, 50}}, "a", 0, 30, 0, 30},
		{"merged past the window keep the newest", 100, []put{{"a", 0, 20, 0, 25}, {"a", 20, 40, 0, 25}, {"a", 40, 50, 0, 25}}, "a", 25, 25, 25, 50},
		{"the window is at most the limit", 8, []put{{"a", 0, 5, 0, 50}, {"a", 5, 10, 0, 50}, {"a", 10, 15, 0, 50}}, "a", 7, 8, 7, 15},
		{"a first batch past the window", 100, []put{{"a", 0, 40, 0, 10}}, "a", 30, 10, 30, 40},
		{"after a batch that skipped", 100, []put{{"a", 0, 5, 0, 10}, {"a", 20, 25, 15, 10}}, "a", 20, 5, 20, 25},
		{"skips add up", 100, []put{{"a", 10, 15, 10, 10}, {"a", 30, 35, 15, 10}, {"a", 35, 40, 0, 10}}, "a", 30, 10, 30, 40},
		{"another view replaces", 100, []put{{"a", 0, 5, 0, 10}, {"b", 3, 6, 0, 10}}, "b", 3, 3, 0, 6},
		{"an empty first batch then rows", 100, []put{{"a", 7, 7, 0, 10}, {"a", 7, 9, 0, 10}}, "a", 7, 2, 0, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newPushQueue(tt.limit)
			for _, p := range tt.puts {
				q.put(batchOf(p.key, p.start, p.end, p.skipped, p.window))
			}
			m := q.take(context.Background())
			b, ok := m.(*rowsPush)
			if !ok {
				t.Fatalf("took %T, want the rows", m)
			}
			if b.Key != tt.key || b.Start != tt.start || len(b.Rows) != tt.n || b.Skipped != tt.skipped || b.Displayed != tt.displayed {
				t.Fatalf("pending %s: start %d, %d rows, %d skipped, %d displayed; want %s: %d, %d, %d, %d",
					b.Key, b.Start, len(b.Rows), b.Skipped, b.Displayed, tt.key, tt.start, tt.n, tt.skipped, tt.displayed)
			}
			if len(b.Fields) != len(b.Rows) {
				t.Fatalf("%d custom column rows for %d rows", len(b.Fields), len(b.Rows))
			}
			for k, row := range b.Rows {
				if row.No != b.Start+k+1 || b.Fields[k][0] != strconv.Itoa(row.No) {
					t.Fatalf("row %d at position %d (custom column %q)", row.No, b.Start+k, b.Fields[k][0])
				}
			}
			if q.highest > tt.limit {
				t.Errorf("%d rows pending at most, over the limit %d", q.highest, tt.limit)
			}
		})
	}
}

// TestPushQueueBounded puts 200,000 rows in small batches and takes
// none: what is pending never exceeds the window, and it is the newest
// rows with all the others counted as skipped.
func TestPushQueueBounded(t *testing.T) {
	const window, total = 40, 200_000
	q := newPushQueue(maxPushRows)
	for start := 0; start < total; start += 100 {
		q.put(batchOf("a", start, start+100, 0, window))
		if q.highest > window {
			t.Fatalf("%d rows pending after %d put", q.highest, start+100)
		}
	}
	b := q.take(context.Background()).(*rowsPush)
	if b.Start != total-window || len(b.Rows) != window || b.Skipped != total-window || cap(b.Rows) > 2*window {
		t.Fatalf("pending: start %d, %d rows (capacity %d), %d skipped; want the last %d", b.Start, len(b.Rows), cap(b.Rows), b.Skipped, window)
	}
}

// TestPushQueueTake checks take: it waits for a put, gives a note before
// the rows, and returns nil when its context ends.
func TestPushQueueTake(t *testing.T) {
	q := newPushQueue(10)
	got := make(chan any)
	go func() { got <- q.take(context.Background()) }()
	select {
	case m := <-got:
		t.Fatalf("took %v from an empty queue", m)
	case <-time.After(50 * time.Millisecond):
	}
	q.put(batchOf("a", 0, 3, 0, 10))
	if m, ok := (<-got).(*rowsPush); !ok || len(m.Rows) != 3 {
		t.Fatalf("took %v, want the 3 rows put", m)
	}
	q.put(batchOf("a", 3, 4, 0, 10))
	q.putNote(followError{Type: "follow-error", Error: "first"})
	q.putNote(followError{Type: "follow-error", Error: "second"})
	if m, ok := q.take(context.Background()).(followError); !ok || m.Error != "second" {
		t.Fatalf("took %v, want the newest note first", m)
	}
	if m, ok := q.take(context.Background()).(*rowsPush); !ok || m.Start != 3 {
		t.Fatalf("took %v, want the rows after the note", m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if m := q.take(ctx); m != nil {
		t.Fatalf("took %v after the context ended", m)
	}
}
