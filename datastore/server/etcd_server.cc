#include "datastore/server/etcd_server.h"

#include "datastore/mvcc/row_id.h"
#include "datastore/mvcc/sql_reads.h"
#include "datastore/server/apply.h"
#include "datastore/server/errors.h"
#include "datastore/server/range_eval.h"
#include "datastore/server/validate.h"

namespace cairn::datastore::server {

using namespace etcdserverpb;

EtcdServer::EtcdServer(mvcc::Store& store, ServerOptions options)
    : store_(store),
      options_(std::move(options)),
      lessor_(store),
      hub_(
          store, [this](ResponseHeader* h, int64_t rev) { header(h, rev); },
          options_.progress_interval) {}

EtcdServer::~EtcdServer() {
  stop();
}

void EtcdServer::start() {
  store_.set_event_sink([this](int64_t revision, std::vector<mvcc::Event>&& events) {
    hub_.publish(revision, std::move(events));
  });
  hub_.start();
  lessor_.start();
}

void EtcdServer::stop() {
  lessor_.stop();
  store_.stop();
  hub_.stop();
}

void EtcdServer::header(ResponseHeader* h, int64_t revision) const {
  h->set_cluster_id(store_.identity().cluster_id);
  h->set_member_id(store_.identity().member_id);
  h->set_revision(revision);
  h->set_raft_term(kRaftTerm);
}

template <typename Resp>
void EtcdServer::write(std::function<void(mvcc::WriteTxn&, Resp*)> apply, Reply<Resp> reply,
                       std::function<void(std::exception_ptr)> on_error) {
  auto resp = std::make_shared<Resp>();
  store_.submit(
      [resp, apply = std::move(apply)](mvcc::WriteTxn& txn) {
        apply(txn, resp.get());
        if (!resp->mutable_header()->revision())
          resp->mutable_header()->set_revision(txn.revision());
      },
      [this, resp, reply = std::move(reply),
       on_error = std::move(on_error)](std::exception_ptr err) {
        if (err && on_error) on_error(err);
        if (!err) header(resp->mutable_header(), resp->header().revision());
        reply(err, *resp);
      });
}

RangeResponse EtcdServer::range(const RangeRequest& r) {
  check_range(r);
  int64_t current = store_.revision();
  int64_t rev = resolve_read_revision(r.revision(), current, store_.compact_revision());
  RangeResponse resp;
  store_.readers().with([&](mvcc::Connection& conn) {
    RangeSource src{
        [&](const mvcc::RangeQuery& q) { return mvcc::range_at(conn, store_.index(), q); },
        [&](const mvcc::KeyRange& kr, int64_t at) { return store_.index().count_at(kr, at); }};
    evaluate_range(r, rev, current, src, &resp);
  });
  // A compaction that committed while we read may have removed rows we needed.
  if (rev < store_.compact_revision()) throw errors::compacted();
  header(resp.mutable_header(), current);
  return resp;
}

void EtcdServer::put(PutRequest r, Reply<PutResponse> reply) {
  check_put(r);
  write<PutResponse>(
      [this, r = std::move(r)](mvcc::WriteTxn& txn, PutResponse* resp) {
        apply_put(txn, lessor_, r, resp);
      },
      std::move(reply));
}

void EtcdServer::delete_range(DeleteRangeRequest r, Reply<DeleteRangeResponse> reply) {
  check_delete(r);
  write<DeleteRangeResponse>(
      [r = std::move(r)](mvcc::WriteTxn& txn, DeleteRangeResponse* resp) {
        apply_delete(txn, r, resp);
      },
      std::move(reply));
}

void EtcdServer::txn(TxnRequest r, Reply<TxnResponse> reply) {
  check_txn(r);
  write<TxnResponse>(
      [this, r = std::move(r)](mvcc::WriteTxn& txn, TxnResponse* resp) {
        apply_txn(txn, lessor_, r, resp);
      },
      std::move(reply));
}

void EtcdServer::compact(CompactionRequest r, Reply<CompactionResponse> reply) {
  write<CompactionResponse>(
      [r](mvcc::WriteTxn& txn, CompactionResponse*) { apply_compact(txn, r); }, std::move(reply));
}

void EtcdServer::lease_grant(LeaseGrantRequest r, Reply<LeaseGrantResponse> reply) {
  auto granted = std::make_shared<int64_t>(0);
  write<LeaseGrantResponse>(
      [this, r, granted](mvcc::WriteTxn& txn, LeaseGrantResponse* resp) {
        int64_t id = lessor_.apply_grant(txn, r.id(), r.ttl());
        *granted = id;
        resp->set_id(id);
        resp->set_ttl(std::max(r.ttl(), kMinLeaseTtl));
      },
      std::move(reply),
      [this, granted](std::exception_ptr) {
        if (*granted) lessor_.forget(*granted);
      });
}

void EtcdServer::lease_revoke(LeaseRevokeRequest r, Reply<LeaseRevokeResponse> reply) {
  auto ttl = std::make_shared<int64_t>(0);
  write<LeaseRevokeResponse>(
      [this, r, ttl](mvcc::WriteTxn& txn, LeaseRevokeResponse*) {
        if (auto info = lessor_.info(r.id())) *ttl = info->granted_ttl;
        lessor_.apply_revoke(txn, r.id());
      },
      std::move(reply),
      [this, r, ttl](std::exception_ptr) {
        if (*ttl) lessor_.restore(r.id(), *ttl);
      });
}

void EtcdServer::lease_time_to_live(LeaseTimeToLiveRequest r,
                                    Reply<LeaseTimeToLiveResponse> reply) {
  // Through the writer, which owns the key index (lease -> keys); it writes nothing.
  write<LeaseTimeToLiveResponse>(
      [this, r](mvcc::WriteTxn& txn, LeaseTimeToLiveResponse* resp) {
        resp->set_id(r.id());
        auto info = lessor_.info(r.id());
        if (!info) {
          resp->set_ttl(-1);
          return;
        }
        resp->set_ttl(info->remaining_ttl);
        resp->set_grantedttl(info->granted_ttl);
        if (r.keys()) {
          for (auto& k : txn.keys_of_lease(r.id())) resp->add_keys(k);
        }
      },
      std::move(reply));
}

LeaseLeasesResponse EtcdServer::lease_leases() {
  LeaseLeasesResponse resp;
  header(resp.mutable_header(), store_.revision());
  for (int64_t id : lessor_.ids()) resp.add_leases()->set_id(id);
  return resp;
}

LeaseKeepAliveResponse EtcdServer::lease_keep_alive(const LeaseKeepAliveRequest& r) {
  LeaseKeepAliveResponse resp;
  header(resp.mutable_header(), store_.revision());
  resp.set_id(r.id());
  resp.set_ttl(lessor_.keep_alive(r.id()).value_or(0));  // etcd: TTL 0 = not found
  return resp;
}

StatusResponse EtcdServer::status() {
  StatusResponse resp;
  int64_t rev = store_.revision();
  header(resp.mutable_header(), rev);
  resp.set_version(kEtcdVersion);
  int64_t size = store_.db_size();
  resp.set_dbsize(size);
  resp.set_dbsizeinuse(size);
  resp.set_leader(store_.identity().member_id);
  // dqlite's raft index is not visible through its client protocol; the store revision
  // is the monotonic stand-in (documented in docs/datastore.md).
  resp.set_raftindex(uint64_t(rev));
  resp.set_raftappliedindex(uint64_t(rev));
  resp.set_raftterm(kRaftTerm);
  return resp;
}

AlarmResponse EtcdServer::alarm(const AlarmRequest&) {
  // No alarm is ever raised (no space quota, no corruption checker): GET lists none,
  // DEACTIVATE has nothing to clear, ACTIVATE is accepted as etcd does and not kept.
  AlarmResponse resp;
  header(resp.mutable_header(), store_.revision());
  return resp;
}

namespace {
uint32_t crc32_update(uint32_t crc, const std::string& data) {
  static uint32_t table[256] = {0};
  static bool init = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;  // Castagnoli
      table[i] = c;
    }
    return true;
  }();
  (void)init;
  crc = ~crc;
  for (unsigned char b : data) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}
}  // namespace

uint32_t EtcdServer::hash_rows(int64_t revision) {
  return store_.readers().with([&](mvcc::Connection& conn) {
    auto rows = conn.query("SELECT name, id, version, value FROM kv WHERE id < ? ORDER BY id",
                           {mvcc::first_row_of(revision + 1)});
    uint32_t crc = 0;
    for (auto& row : rows.rows) {
      crc = crc32_update(crc, mvcc::bytes_of(row.at(0)));
      crc = crc32_update(crc, std::to_string(mvcc::revision_of_row(mvcc::int_of(row.at(1)))) +
                                  (mvcc::int_of(row.at(2)) == 0 ? "d" : "p"));
      crc = crc32_update(crc, mvcc::bytes_of(row.at(3)));
    }
    return crc;
  });
}

HashKVResponse EtcdServer::hash_kv(const HashKVRequest& r) {
  int64_t current = store_.revision();
  int64_t rev = resolve_read_revision(r.revision(), current, store_.compact_revision());
  HashKVResponse resp;
  resp.set_hash(hash_rows(rev));
  resp.set_compact_revision(store_.compact_revision());
  header(resp.mutable_header(), current);
  return resp;
}

HashResponse EtcdServer::hash() {
  HashResponse resp;
  int64_t current = store_.revision();
  resp.set_hash(hash_rows(current));
  header(resp.mutable_header(), current);
  return resp;
}

MemberListResponse EtcdServer::member_list() {
  MemberListResponse resp;
  header(resp.mutable_header(), store_.revision());
  auto* m = resp.add_members();
  m->set_id(store_.identity().member_id);
  m->set_name(options_.name);
  for (auto& url : options_.client_urls) m->add_clienturls(url);
  return resp;
}

}  // namespace cairn::datastore::server
