// etcd's Range semantics over a source of key-values at a revision: limit + more + count,
// keys_only, count_only, sort order/target, min/max mod/create revision filters. Shared by
// the read path (pooled connection) and reads inside a Txn (writer connection).
#pragma once

#include <functional>

#include "datastore/mvcc/types.h"
#include "datastore/proto/rpc.pb.h"

namespace cairn::datastore::server {

struct RangeSource {
  std::function<std::vector<mvcc::KeyValue>(const mvcc::RangeQuery&)> fetch;
  std::function<int64_t(const mvcc::KeyRange&, int64_t revision)> count;
};

// Fills resp (kvs, more, count, header.revision = header_revision) for request `r` read at
// `read_revision` (already validated against compaction / future).
void evaluate_range(const etcdserverpb::RangeRequest& r, int64_t read_revision,
                    int64_t header_revision, const RangeSource& source,
                    etcdserverpb::RangeResponse* resp);

void to_proto(const mvcc::KeyValue& kv, mvccpb::KeyValue* out);

}  // namespace cairn::datastore::server
