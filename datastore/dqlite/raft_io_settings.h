// Settings for the raft I/O (libraft's raft_uv) that libdqlite 1.11 creates inside
// dqlite_node_create and exposes no handle to.
//
// Why: libraft compresses every raft snapshot with LZ4 by default. A snapshot is the whole
// database, taken every --snapshot-threshold entries, so compression is what keeps the bytes
// written per snapshot down on SD cards and eMMC, the scarce resource of an edge node; cairn
// keeps it on by default. Off trades that for CPU: under `etcdctl check perf --load=l` (random,
// incompressible values) liblz4 had 18.5% of cairn-datastore's CPU samples, and turning it off
// cut the server's CPU per write 4-7% in three of four paired runs (+2% in the fourth;
// docs/benchmarks.md "load l, session 5"). Off, raft writes the database pages as they are.
// libraft reads either kind back (it recognises the LZ4 frame when it loads a snapshot), so a
// data dir may switch between the two across restarts.
//
// How: libdqlite calls raft_uv_init() once per node. The executable wraps that call (see
// datastore/main/raft_uv_hook.cc: `ld --wrap` in the static binary, symbol interposition
// when libraft is a shared library) and passes the new raft_io to configure_raft_uv(), which
// applies the settings below. A program without the wrapper (the unit tests) keeps libraft's
// defaults; raft_uv_configured() tells which case runs.
#pragma once

#include <cstdint>

struct raft_io;

namespace cairn::dqlite {

// Process-wide; read by configure_raft_uv(), so set it before starting a node. Default on
// (libraft's own default).
void set_snapshot_compression(bool on);
bool snapshot_compression();

// Snapshot pacing. libraft snapshots every `threshold` entries, and a dqlite 1.11 snapshot
// is the whole database (LZ4-compressed and written by libuv's threads): its cost grows with
// the database while the log it lets raft drop does not. Under `etcdctl check perf
// --load=l` (~20 KB entries, a database growing to ~400 MB in 60 s) the time with no reply
// for over 5 ms grew from ~10% to 30-70% of the run as the database grew, and fell to 3-11%
// with 8x fewer snapshots (docs/benchmarks.md "load l, session 7"): past a few tens of MB
// raft takes whole-database snapshots back to back, and the log's writes wait behind them.
// With pacing (cairn-datastore's `--snapshot-log-ratio`, default 8), raft snapshots once at
// least `min_entries` entries AND a log of at least 1/`log_ratio` of the previous snapshot's
// size were written since it, or after 64 x `min_entries` entries whatever their size. So
// the snapshot bytes written per log byte stay below `log_ratio`, and raft's in-memory log
// (the entries since the last snapshot, plus the trailing ones) below ~1/`log_ratio` of the
// database: that memory is the price (RSS after 100,000 x 1 KiB 1.82-1.98x the live data at
// 8 vs 1.81-1.84x without; 2.08x at 4). log_ratio 0: libraft's own rule, every `min_entries`
// entries. Process-wide; set it before starting a node (min_entries = its threshold).
struct SnapshotPacing {
  unsigned log_ratio = 0;
  unsigned min_entries = 0;
};
void set_snapshot_pacing(SnapshotPacing pacing);
SnapshotPacing snapshot_pacing();

// The rule above: the snapshot threshold (in entries) raft should use now, given the log
// bytes appended since the last snapshot and that snapshot's size (0: none taken yet).
unsigned paced_snapshot_threshold(const SnapshotPacing& pacing, uint64_t log_bytes,
                                  uint64_t last_snapshot_bytes);

// Applies the settings to a raft_io that raft_uv_init() just initialised (with pacing on, it
// wraps the io's append and snapshot_put, which run on dqlite's loop thread, to count the
// bytes and set raft's threshold there). Returns 0 or libraft's error code (compression
// requested from a libraft built without LZ4).
int configure_raft_uv(raft_io* io);

// How many raft_io configure_raft_uv() has applied the settings to (0: no wrapper linked).
uint64_t raft_uv_configured();

}  // namespace cairn::dqlite
