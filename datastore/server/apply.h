// etcd's write-request semantics applied on the writer thread (one request = at most one
// revision): Put (prev_kv, lease, ignore_value/ignore_lease), DeleteRange (prev_kv), Txn
// (compares on value/version/create/mod/lease, range_end on compares, nested txns; every
// compare of the chosen path is evaluated against the state before the txn, as etcd does),
// and Compact. Every check that can fail runs before the first write.
#pragma once

#include "datastore/mvcc/store.h"
#include "datastore/proto/rpc.pb.h"
#include "datastore/server/lessor.h"

namespace cairn::datastore::server {

void apply_put(mvcc::WriteTxn& txn, const Lessor& lessor, const etcdserverpb::PutRequest& r,
               etcdserverpb::PutResponse* resp);
void apply_delete(mvcc::WriteTxn& txn, const etcdserverpb::DeleteRangeRequest& r,
                  etcdserverpb::DeleteRangeResponse* resp);
void apply_txn(mvcc::WriteTxn& txn, const Lessor& lessor, const etcdserverpb::TxnRequest& r,
               etcdserverpb::TxnResponse* resp);
void apply_compact(mvcc::WriteTxn& txn, const etcdserverpb::CompactionRequest& r);

// Checks a read revision (0 = current) against compaction and the current revision and
// returns the revision to read at. Throws compacted / future_revision.
int64_t resolve_read_revision(int64_t requested, int64_t current, int64_t compacted);

}  // namespace cairn::datastore::server
