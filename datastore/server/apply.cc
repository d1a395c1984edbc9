#include "datastore/server/apply.h"

#include <vector>

#include "datastore/server/errors.h"
#include "datastore/server/range_eval.h"

namespace cairn::datastore::server {

using etcdserverpb::Compare;
using etcdserverpb::RequestOp;
using etcdserverpb::TxnRequest;

int64_t resolve_read_revision(int64_t requested, int64_t current, int64_t compacted) {
  if (requested <= 0) return current;
  if (requested > current) throw errors::future_revision();
  if (requested < compacted) throw errors::compacted();
  return requested;
}

namespace {

void check_put_state(mvcc::WriteTxn& txn, const Lessor& lessor, const etcdserverpb::PutRequest& r) {
  if (r.ignore_value() || r.ignore_lease()) {
    if (!txn.find(r.key())) throw errors::key_not_found();
  }
  if (!r.ignore_lease() && r.lease() != 0 && !lessor.exists(r.lease())) {
    throw errors::lease_not_found();
  }
}

mvcc::KeyValue current_kv(mvcc::WriteTxn& txn, const std::string& key, const mvcc::KeyMeta& m,
                          bool with_value) {
  mvcc::KeyValue kv{key, {}, m.create_revision, m.mod_revision, m.version, m.lease};
  if (with_value) kv.value = txn.value_of(key);
  return kv;
}

int cmp(int64_t a, int64_t b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

bool compare_one(mvcc::WriteTxn& txn, const Compare& c, const std::string& key,
                 const mvcc::KeyMeta* m) {
  int result = 0;
  switch (c.target()) {
    case Compare::VALUE: {
      std::string v = m ? txn.value_of(key) : std::string();
      int r = v.compare(c.value());
      result = r < 0 ? -1 : r > 0 ? 1 : 0;
      break;
    }
    case Compare::VERSION:
      result = cmp(m ? m->version : 0, c.version());
      break;
    case Compare::CREATE:
      result = cmp(m ? m->create_revision : 0, c.create_revision());
      break;
    case Compare::MOD:
      result = cmp(m ? m->mod_revision : 0, c.mod_revision());
      break;
    case Compare::LEASE:
      result = cmp(m ? m->lease : 0, c.lease());
      break;
    default:
      return false;
  }
  switch (c.result()) {
    case Compare::EQUAL:
      return result == 0;
    case Compare::NOT_EQUAL:
      return result != 0;
    case Compare::GREATER:
      return result > 0;
    case Compare::LESS:
      return result < 0;
    default:
      return false;
  }
}

bool compare(mvcc::WriteTxn& txn, const Compare& c) {
  mvcc::KeyRange range{c.key(), c.range_end()};
  std::vector<std::pair<std::string, mvcc::KeyMeta>> found;
  txn.for_each(range, [&](const std::string& k, const mvcc::KeyMeta& m) {
    found.emplace_back(k, m);
    return true;
  });
  if (found.empty()) {
    // A missing key has no value to compare (etcd: always false); other targets are 0.
    if (c.target() == Compare::VALUE) return false;
    return compare_one(txn, c, c.key(), nullptr);
  }
  for (auto& [k, m] : found) {
    if (!compare_one(txn, c, k, &m)) return false;
  }
  return true;
}

// The chosen branch of a txn and of every nested txn on it, decided up front.
struct Path {
  bool succeeded = false;
  std::vector<Path> nested;  // one per nested txn op of the chosen branch, in order
};

Path choose_path(mvcc::WriteTxn& txn, const TxnRequest& r) {
  Path p;
  p.succeeded = true;
  for (auto& c : r.compare()) {
    if (!compare(txn, c)) {
      p.succeeded = false;
      break;
    }
  }
  for (auto& op : p.succeeded ? r.success() : r.failure()) {
    if (op.has_request_txn()) p.nested.push_back(choose_path(txn, op.request_txn()));
  }
  return p;
}

void check_path(mvcc::WriteTxn& txn, const Lessor& lessor, const TxnRequest& r, const Path& p) {
  size_t n = 0;
  for (auto& op : p.succeeded ? r.success() : r.failure()) {
    if (op.has_request_put()) {
      check_put_state(txn, lessor, op.request_put());
    } else if (op.has_request_range()) {
      resolve_read_revision(op.request_range().revision(), txn.revision(), txn.compact_revision());
    } else if (op.has_request_txn()) {
      check_path(txn, lessor, op.request_txn(), p.nested[n++]);
    }
  }
}

void do_put(mvcc::WriteTxn& txn, const etcdserverpb::PutRequest& r,
            etcdserverpb::PutResponse* resp) {
  const mvcc::KeyMeta* m = txn.find(r.key());
  std::optional<mvcc::KeyValue> prev;
  if (m && (r.prev_kv() || r.ignore_value())) prev = current_kv(txn, r.key(), *m, true);
  int64_t lease = r.ignore_lease() ? (m ? m->lease : 0) : r.lease();
  if (r.prev_kv() && prev) to_proto(*prev, resp->mutable_prev_kv());
  const std::string& value = r.ignore_value() ? prev->value : r.value();
  txn.put(r.key(), value, lease);
  resp->mutable_header()->set_revision(txn.revision());
}

void do_delete(mvcc::WriteTxn& txn, const etcdserverpb::DeleteRangeRequest& r,
               etcdserverpb::DeleteRangeResponse* resp) {
  mvcc::KeyRange range{r.key(), r.range_end()};
  std::vector<std::pair<std::string, mvcc::KeyMeta>> victims;
  txn.for_each(range, [&](const std::string& k, const mvcc::KeyMeta& m) {
    victims.emplace_back(k, m);
    return true;
  });
  if (r.prev_kv()) {
    for (auto& [k, m] : victims) to_proto(current_kv(txn, k, m, true), resp->add_prev_kvs());
  }
  for (auto& [k, m] : victims) txn.del(k);
  resp->set_deleted(int64_t(victims.size()));
  resp->mutable_header()->set_revision(txn.revision());
}

void do_range(mvcc::WriteTxn& txn, const etcdserverpb::RangeRequest& r,
              etcdserverpb::RangeResponse* resp) {
  int64_t rev = resolve_read_revision(r.revision(), txn.revision(), txn.compact_revision());
  RangeSource src{[&](const mvcc::RangeQuery& q) { return txn.range(q); },
                  [&](const mvcc::KeyRange& kr, int64_t at) { return txn.count(kr, at); }};
  evaluate_range(r, rev, txn.revision(), src, resp);
}

void run_path(mvcc::WriteTxn& txn, const TxnRequest& r, const Path& p,
              etcdserverpb::TxnResponse* resp) {
  resp->set_succeeded(p.succeeded);
  size_t n = 0;
  for (auto& op : p.succeeded ? r.success() : r.failure()) {
    auto* out = resp->add_responses();
    switch (op.request_case()) {
      case RequestOp::kRequestRange:
        do_range(txn, op.request_range(), out->mutable_response_range());
        break;
      case RequestOp::kRequestPut:
        do_put(txn, op.request_put(), out->mutable_response_put());
        break;
      case RequestOp::kRequestDeleteRange:
        do_delete(txn, op.request_delete_range(), out->mutable_response_delete_range());
        break;
      case RequestOp::kRequestTxn:
        run_path(txn, op.request_txn(), p.nested[n++], out->mutable_response_txn());
        break;
      case RequestOp::REQUEST_NOT_SET:
        break;
    }
  }
  resp->mutable_header()->set_revision(txn.revision());
}

}  // namespace

void apply_put(mvcc::WriteTxn& txn, const Lessor& lessor, const etcdserverpb::PutRequest& r,
               etcdserverpb::PutResponse* resp) {
  check_put_state(txn, lessor, r);
  do_put(txn, r, resp);
}

void apply_delete(mvcc::WriteTxn& txn, const etcdserverpb::DeleteRangeRequest& r,
                  etcdserverpb::DeleteRangeResponse* resp) {
  do_delete(txn, r, resp);
}

void apply_txn(mvcc::WriteTxn& txn, const Lessor& lessor, const TxnRequest& r,
               etcdserverpb::TxnResponse* resp) {
  Path p = choose_path(txn, r);
  check_path(txn, lessor, r, p);
  run_path(txn, r, p, resp);
}

void apply_compact(mvcc::WriteTxn& txn, const etcdserverpb::CompactionRequest& r) {
  if (r.revision() <= txn.compact_revision()) throw errors::compacted();
  if (r.revision() > txn.revision()) throw errors::future_revision();
  txn.compact(r.revision());
}

}  // namespace cairn::datastore::server
