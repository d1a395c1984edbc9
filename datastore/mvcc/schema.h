// The SQL schema of cairn-datastore's MVCC store (kine-like: every write appends rows).
//
// kv: one row per change of one key, keyed by its row id (row_id.h: revision << 20 | the
//   row's number within its revision). Ids grow with every write, so a write appends at
//   the right edge of the table's b-tree and touches no random page: there is deliberately
//   no index on the name. Format 2 had a UNIQUE (name, revision) index, and each write
//   dirtied one random 4 KiB page of it (raft copied, checksummed and wrote ~200 such pages
//   per batch of 200 writes). Which rows belong to which key lives in memory instead
//   (key_index.h), rebuilt from this table at start by one scan in id order. A tombstone
//   is a row with version 0 (and create_revision 0, no value). A Txn that writes several
//   keys gives them all one revision, as etcd does; etcd forbids changing a key twice in
//   one request, so (name, revision) stays unique without an index enforcing it.
//   Values stay in the same row: start-up selects only the narrow columns, and SQLite then
//   decodes only those (values of 1 KiB sit inline on the page; dqlite keeps the database
//   in memory, so walking those pages is cheap next to sending rows over the socket).
//   The current revision is the largest of the newest row's revision and the compact
//   revision (a compaction may remove the newest row, a tombstone).
// lease: granted leases (id, TTL), so leases survive a restart (expiry restarts from now,
//   as etcd's lessor does on recovery).
// meta: format marker, compact revision, cluster and member ids.
#pragma once

#include <cstdint>
#include <string>

#include "datastore/dqlite/client.h"

namespace cairn::datastore::mvcc {

inline constexpr const char* kFormat = "cairn-datastore/3";

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
