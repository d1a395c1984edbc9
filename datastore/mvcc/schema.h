// The SQL schema of cairn-datastore's MVCC store (kine-like: every write appends rows).
//
// kv: one row per change of one key. (name, revision) is unique (index kv_name_revision):
//   etcd forbids a request from changing a key twice, so a revision touches a key at most
//   once, and a Txn that writes several keys gives them all the same revision, as etcd does.
//   Rows live in a rowid table in insertion (= revision) order, not clustered by name: a
//   row of ~1 KiB or more does not fit a WITHOUT ROWID leaf (SQLite's inline limit there is
//   ~1000 bytes on 4 KiB pages), so every such write used to spill into an overflow page of
//   its own (5.6 KB of database and 8 KiB of raft log per 1.3 KB write). Appending instead
//   fills pages in order; the random part of a write is one small (name, revision) index
//   entry. The revision index serves watch replay and compaction. A delete appends a
//   tombstone row (deleted = 1). prev_revision links a row to the row it supersedes, so the
//   previous key-value of an event is one index lookup away.
//   The current revision is MAX(revision): compaction never removes the newest row.
// lease: granted leases (id, TTL), so leases survive a restart (expiry restarts from now,
//   as etcd's lessor does on recovery).
// meta: format marker, compact revision, cluster and member ids.
#pragma once

#include <cstdint>
#include <string>

#include "datastore/dqlite/client.h"

namespace cairn::datastore::mvcc {

inline constexpr const char* kFormat = "cairn-datastore/2";

struct Identity {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
};

// Creates the schema in an empty database or verifies an existing one. Throws
// std::runtime_error naming the problem when the database belongs to something else or has
// an unknown format. Returns the persisted identity (created randomly on first use).
Identity ensure_schema(dqlite::Client& client);

// Reads a numeric meta value; `fallback` when absent.
int64_t read_meta_int(dqlite::Client& client, const std::string& name, int64_t fallback);

}  // namespace cairn::datastore::mvcc
