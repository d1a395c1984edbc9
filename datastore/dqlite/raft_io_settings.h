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

// Applies the settings to a raft_io that raft_uv_init() just initialised. Returns 0 or
// libraft's error code (compression requested from a libraft built without LZ4).
int configure_raft_uv(raft_io* io);

// How many raft_io configure_raft_uv() has applied the settings to (0: no wrapper linked).
uint64_t raft_uv_configured();

}  // namespace cairn::dqlite
