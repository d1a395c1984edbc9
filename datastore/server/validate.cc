#include "datastore/server/validate.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "datastore/mvcc/types.h"
#include "datastore/server/errors.h"

namespace cairn::datastore::server {

using etcdserverpb::RequestOp;

void check_range(const etcdserverpb::RangeRequest& r) {
  if (r.key().empty()) throw errors::empty_key();
  if (!etcdserverpb::RangeRequest_SortOrder_IsValid(r.sort_order()) ||
      !etcdserverpb::RangeRequest_SortTarget_IsValid(r.sort_target())) {
    throw RequestError(grpc::INVALID_ARGUMENT, "etcdserver: invalid sort option");
  }
}

void check_put(const etcdserverpb::PutRequest& r) {
  if (r.key().empty()) throw errors::empty_key();
  if (r.ignore_value() && !r.value().empty()) throw errors::value_provided();
  if (r.ignore_lease() && r.lease() != 0) throw errors::lease_provided();
}

void check_delete(const etcdserverpb::DeleteRangeRequest& r) {
  if (r.key().empty()) throw errors::empty_key();
}

namespace {

struct Writes {
  std::set<std::string> puts;
  std::vector<mvcc::KeyRange> deletes;
};

bool overlaps(const mvcc::KeyRange& d, const std::string& key) {
  return d.contains(key);
}

void check_ops(const google::protobuf::RepeatedPtrField<RequestOp>& ops, int depth);

void check_txn_depth(const etcdserverpb::TxnRequest& r, int depth) {
  if (depth > 64) throw errors::too_many_ops();
  if (r.compare_size() > kMaxTxnOps || r.success_size() > kMaxTxnOps ||
      r.failure_size() > kMaxTxnOps) {
    throw errors::too_many_ops();
  }
  for (auto& c : r.compare()) {
    if (c.key().empty()) throw errors::empty_key();
  }
  check_ops(r.success(), depth);
  check_ops(r.failure(), depth);
}

void check_ops(const google::protobuf::RepeatedPtrField<RequestOp>& ops, int depth) {
  for (auto& op : ops) {
    switch (op.request_case()) {
      case RequestOp::kRequestRange:
        check_range(op.request_range());
        break;
      case RequestOp::kRequestPut:
        check_put(op.request_put());
        break;
      case RequestOp::kRequestDeleteRange:
        check_delete(op.request_delete_range());
        break;
      case RequestOp::kRequestTxn:
        check_txn_depth(op.request_txn(), depth + 1);
        break;
      case RequestOp::REQUEST_NOT_SET:
        break;
    }
  }
}

// etcd's checkIntervals: within one path of a txn no key may be put twice, nor put and
// deleted. Nested txns' branches are checked against their parent's writes separately.
Writes collect(const google::protobuf::RepeatedPtrField<RequestOp>& ops);

void merge_checked(Writes& into, const Writes& w) {
  for (auto& k : w.puts) {
    if (into.puts.count(k)) throw errors::duplicate_key();
    for (auto& d : into.deletes) {
      if (overlaps(d, k)) throw errors::duplicate_key();
    }
  }
  for (auto& d : w.deletes) {
    for (auto& k : into.puts) {
      if (overlaps(d, k)) throw errors::duplicate_key();
    }
  }
  into.puts.insert(w.puts.begin(), w.puts.end());
  into.deletes.insert(into.deletes.end(), w.deletes.begin(), w.deletes.end());
}

Writes collect(const google::protobuf::RepeatedPtrField<RequestOp>& ops) {
  Writes w;
  std::vector<Writes> nested;
  for (auto& op : ops) {
    if (op.has_request_put()) {
      if (!w.puts.insert(op.request_put().key()).second) throw errors::duplicate_key();
    } else if (op.has_request_delete_range()) {
      auto& d = op.request_delete_range();
      w.deletes.push_back({d.key(), d.range_end()});
    } else if (op.has_request_txn()) {
      Writes success = collect(op.request_txn().success());
      Writes failure = collect(op.request_txn().failure());
      // Only one branch runs, so each is checked against the rest on its own.
      Writes both = success;
      both.puts.insert(failure.puts.begin(), failure.puts.end());
      both.deletes.insert(both.deletes.end(), failure.deletes.begin(), failure.deletes.end());
      nested.push_back(std::move(both));
    }
  }
  for (auto& k : w.puts) {
    for (auto& d : w.deletes) {
      if (overlaps(d, k)) throw errors::duplicate_key();
    }
  }
  for (auto& n : nested) merge_checked(w, n);
  return w;
}

}  // namespace

void check_txn(const etcdserverpb::TxnRequest& r) {
  check_txn_depth(r, 0);
  collect(r.success());
  collect(r.failure());
}

}  // namespace cairn::datastore::server
