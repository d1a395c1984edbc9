// Static checks of etcd requests, done before a request reaches the store (etcd's
// v3rpc/key.go checks): empty keys, bad sort options, value/lease given with ignore_*,
// too many txn operations, and a key written twice in one txn.
#pragma once

#include "datastore/proto/rpc.pb.h"

namespace cairn::datastore::server {

inline constexpr int kMaxTxnOps = 128;

// Each throws RequestError with etcd's status and message.
void check_range(const etcdserverpb::RangeRequest& r);
void check_put(const etcdserverpb::PutRequest& r);
void check_delete(const etcdserverpb::DeleteRangeRequest& r);
void check_txn(const etcdserverpb::TxnRequest& r);

}  // namespace cairn::datastore::server
