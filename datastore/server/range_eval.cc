#include "datastore/server/range_eval.h"

#include <algorithm>

namespace cairn::datastore::server {

using etcdserverpb::RangeRequest;

void to_proto(const mvcc::KeyValue& kv, mvccpb::KeyValue* out) {
  out->set_key(kv.key);
  out->set_value(kv.value);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
  out->set_lease(kv.lease);
}

void evaluate_range(const RangeRequest& r, int64_t read_revision, int64_t header_revision,
                    const RangeSource& source, etcdserverpb::RangeResponse* resp) {
  resp->mutable_header()->set_revision(header_revision);
  mvcc::KeyRange range{r.key(), r.range_end()};
  if (r.count_only()) {
    resp->set_count(source.count(range, read_revision));
    return;
  }
  bool fetch_all = r.sort_order() != RangeRequest::NONE || r.min_mod_revision() != 0 ||
                   r.max_mod_revision() != 0 || r.min_create_revision() != 0 ||
                   r.max_create_revision() != 0;
  mvcc::RangeQuery q{range, read_revision, 0, r.keys_only()};
  if (!fetch_all && r.limit() > 0) q.limit = r.limit() + 1;  // one extra for `more`
  auto kvs = source.fetch(q);

  int64_t count = int64_t(kvs.size());
  if (q.limit > 0 && int64_t(kvs.size()) >= q.limit) count = source.count(range, read_revision);

  auto prune = [&](auto pred) {
    kvs.erase(std::remove_if(kvs.begin(), kvs.end(), pred), kvs.end());
  };
  if (r.max_mod_revision() != 0) {
    prune([&](const mvcc::KeyValue& kv) { return kv.mod_revision > r.max_mod_revision(); });
  }
  if (r.min_mod_revision() != 0) {
    prune([&](const mvcc::KeyValue& kv) { return kv.mod_revision < r.min_mod_revision(); });
  }
  if (r.max_create_revision() != 0) {
    prune([&](const mvcc::KeyValue& kv) { return kv.create_revision > r.max_create_revision(); });
  }
  if (r.min_create_revision() != 0) {
    prune([&](const mvcc::KeyValue& kv) { return kv.create_revision < r.min_create_revision(); });
  }

  auto order = r.sort_order();
  if (r.sort_target() != RangeRequest::KEY && order == RangeRequest::NONE) {
    order = RangeRequest::ASCEND;
  }
  if (order != RangeRequest::NONE) {
    auto key_of = [&](const mvcc::KeyValue& kv) -> int64_t {
      switch (r.sort_target()) {
        case RangeRequest::VERSION:
          return kv.version;
        case RangeRequest::CREATE:
          return kv.create_revision;
        case RangeRequest::MOD:
          return kv.mod_revision;
        default:
          return 0;
      }
    };
    auto less = [&](const mvcc::KeyValue& a, const mvcc::KeyValue& b) {
      switch (r.sort_target()) {
        case RangeRequest::KEY:
          return a.key < b.key;
        case RangeRequest::VALUE:
          return a.value < b.value;
        default:
          return key_of(a) < key_of(b);
      }
    };
    if (r.sort_target() != RangeRequest::KEY) std::stable_sort(kvs.begin(), kvs.end(), less);
    if (order == RangeRequest::DESCEND) std::reverse(kvs.begin(), kvs.end());
  }
  if (r.limit() > 0 && int64_t(kvs.size()) > r.limit()) {
    kvs.resize(size_t(r.limit()));
    resp->set_more(true);
  }
  resp->set_count(count);
  for (auto& kv : kvs) to_proto(kv, resp->add_kvs());
}

}  // namespace cairn::datastore::server
