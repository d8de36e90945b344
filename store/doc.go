// Package store keeps captures on disk for pkttap-web: each capture, an
// uploaded or opened file or a live capture, is a [Store] in its own
// folder of a data dir, and a [Pool] holds a data dir's stores and what
// they share.
//
// A store is filled once, in one streaming pass, by one ingest pipeline
// whatever its source: a reader copies packets into bounded batches, an
// indexer spools them when the source needs it (a live capture, written as
// a pcapng file in whole blocks before its packets are published, so
// tcpdump reads it at any time), decodes their summary columns on every
// CPU, and appends a fixed-size record per packet (where its bytes are in
// the spool, its timestamp, lengths and link type) and its summary to two
// files. A file's packets stay where the file has them (a gzip file is
// decompressed into a spool on the way). Packets are read back from disk
// on demand, so a capture far bigger than memory opens on a small machine,
// and rows are served while the ingest goes on.
//
// Reading: [Store.Rows] (a window of the packet list, of every packet or
// of a filter's matches), [Store.Packet], [Store.Position] and
// [Store.Download] (the packets as a pcap or pcapng file). Filters are
// display filters (package dfilter) or tcpdump expressions, one string
// whose language [ChooseLanguage] decides, run by filter jobs
// ([Store.StartFilter]): a tcpdump expression is compiled once per link
// type ([filter.Matcher]); each job scans
// the spool in turns on the pool's workers, on all of them at once when it
// is alone, keeping its matches within a memory budget; rows of a prefix
// already scanned are served while it goes on, and it follows a store that
// grows. A scan reads the spool and the index, while they are at most
// 256 and 32 MiB long (mapLimit, indexMapLimit), through read-only memory mappings on Linux and
// macOS (pread elsewhere and past the limit), so it copies none of the
// packet bytes a filter does not look at; the mappings last until the
// store is closed. [Pool.Changed] tells a watcher (pkttap-web's WebSocket) that some
// store has progressed.
//
// Notes: a store keeps its marked and ignored packets and edited packet
// comments (Wireshark's Mark, Ignore and Packet Comment; [Store.Annotate],
// [Store.SetComment]) in its folder; rows carry them, and [Store.Export]
// writes the packets a [PacketSet] names, as Wireshark's Export Specified
// Packets does.
//
// Stores outlive their pool: each folder gets a metadata file, written
// atomically once its data is whole, and a pool opened later on the same
// data dir lists them again (re-indexing what was cut short) and removes
// partial uploads. A pool holds its data dir with a lock file (package
// internal/dirlock), and charges every byte its stores write to one disk
// budget (Config.MaxDisk).
package store
