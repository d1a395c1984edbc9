// The read queries of the MVCC schema (see schema.h), shared by the reader pool, the writer
// (reads inside a Txn) and the watch hub (history replay).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "datastore/mvcc/connection.h"
#include "datastore/mvcc/key_index.h"
#include "datastore/mvcc/types.h"

namespace cairn::datastore::mvcc {

// Live keys of q.range at q.revision in key order, at most q.limit (0 = all).
std::vector<KeyValue> range_at(Connection& conn, const RangeQuery& q);

// Number of live keys of `range` at `revision`.
int64_t count_at(Connection& conn, const KeyRange& range, int64_t revision);

// Events with from <= revision <= to in `range`, in revision order, at most `limit` rows.
// With `with_prev`, each event's prev (the row its prev_revision names) is filled in, value
// included, when that row still exists.
std::vector<Event> history(Connection& conn, const KeyRange& range, int64_t from, int64_t to,
                           int64_t limit, bool with_prev);

// The value of `key` as written at exactly `revision`, if that row exists.
std::optional<std::string> value_at(Connection& conn, const std::string& key, int64_t revision);

// Rebuilds `index` with every live key's latest state; returns the store's current revision
// (1 for an empty store, as etcd).
int64_t load_index(Connection& conn, KeyIndex& index);

// The query load_index runs (tests check its plan stays index-driven).
std::string load_index_sql();

// Persisted leases: (id, ttl seconds).
std::vector<std::pair<int64_t, int64_t>> load_leases(Connection& conn);

}  // namespace cairn::datastore::mvcc
