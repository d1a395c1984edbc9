// The read queries of the MVCC schema (see schema.h), shared by the reader pool, the writer
// (reads inside a Txn) and the watch hub (history replay). The key index decides which rows
// a read needs; SQL only fetches rows by id (primary key lookups and id ranges).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "datastore/mvcc/connection.h"
#include "datastore/mvcc/key_index.h"
#include "datastore/mvcc/types.h"

namespace cairn::datastore::mvcc {

// Live keys of q.range at q.revision in key order, at most q.limit (0 = all). Throws
// StoreError(kCompacted) when a row the index named is gone (a compaction committed
// meanwhile).
std::vector<KeyValue> range_at(Connection& conn, const KeyIndex& index, const RangeQuery& q);

// Events with from <= revision <= to in `range`, in revision order, at most `limit` rows.
// With `with_prev`, each event's prev (the key's row before it, from the index) is filled
// in, value included, when that row still exists.
std::vector<Event> history(Connection& conn, const KeyIndex& index, const KeyRange& range,
                           int64_t from, int64_t to, int64_t limit, bool with_prev);

// The value stored in row `row`, if that row exists.
std::optional<std::string> value_at(Connection& conn, int64_t row);

// The values stored in rows `ids`, fetched in as few statements as history() uses; a row that
// no longer exists (compacted away) is absent from the result.
std::unordered_map<int64_t, std::string> values_at(Connection& conn,
                                                   const std::vector<int64_t>& ids);

// Rebuilds `index` from every row of kv (one pass in id order, in chunks); returns the
// store's current revision (1 for an empty store, as etcd).
int64_t load_index(Connection& conn, KeyIndex& index);

// Persisted leases: (id, ttl seconds).
std::vector<std::pair<int64_t, int64_t>> load_leases(Connection& conn);

// "[1,2,3]": a list of ids as one bound parameter, read in SQL with json_each (dqlite
// carries at most 255 parameters per statement).
std::string id_list(std::vector<int64_t>::const_iterator begin,
                    std::vector<int64_t>::const_iterator end);

}  // namespace cairn::datastore::mvcc
