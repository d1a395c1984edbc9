// The etcd server logic, independent of gRPC: request validation, Range on the read path,
// writes through the store's group-commit writer, leases, watches, maintenance answers.
// The API layer (datastore/api) only moves messages between gRPC and this class.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "datastore/mvcc/store.h"
#include "datastore/proto/rpc.pb.h"
#include "datastore/server/lessor.h"
#include "datastore/server/watch_hub.h"

namespace cairn::datastore::server {

inline constexpr const char* kEtcdVersion = "3.4.0";  // the etcd API level we implement
inline constexpr uint64_t kRaftTerm = 1;              // single node: one term

struct ServerOptions {
  std::chrono::milliseconds progress_interval{std::chrono::minutes(10)};  // etcd's default
  std::string name = "cairn-datastore";
  std::vector<std::string> client_urls;
};

class EtcdServer {
 public:
  template <typename Resp>
  using Reply = std::function<void(std::exception_ptr error, Resp& response)>;

  EtcdServer(mvcc::Store& store, ServerOptions options);
  ~EtcdServer();
  void start();  // lessor expiry and watch hub threads; wires the store's event sink
  void stop();

  void header(etcdserverpb::ResponseHeader* h, int64_t revision) const;

  // KV. range() blocks on SQL (call it off gRPC's event threads); the others complete on the
  // writer thread after the commit. All errors are RequestError (or mvcc::StoreError).
  etcdserverpb::RangeResponse range(const etcdserverpb::RangeRequest& r);
  void put(etcdserverpb::PutRequest r, Reply<etcdserverpb::PutResponse> reply);
  void delete_range(etcdserverpb::DeleteRangeRequest r,
                    Reply<etcdserverpb::DeleteRangeResponse> reply);
  void txn(etcdserverpb::TxnRequest r, Reply<etcdserverpb::TxnResponse> reply);
  void compact(etcdserverpb::CompactionRequest r, Reply<etcdserverpb::CompactionResponse> reply);

  // Lease.
  void lease_grant(etcdserverpb::LeaseGrantRequest r,
                   Reply<etcdserverpb::LeaseGrantResponse> reply);
  void lease_revoke(etcdserverpb::LeaseRevokeRequest r,
                    Reply<etcdserverpb::LeaseRevokeResponse> reply);
  void lease_time_to_live(etcdserverpb::LeaseTimeToLiveRequest r,
                          Reply<etcdserverpb::LeaseTimeToLiveResponse> reply);
  etcdserverpb::LeaseLeasesResponse lease_leases();
  etcdserverpb::LeaseKeepAliveResponse lease_keep_alive(
      const etcdserverpb::LeaseKeepAliveRequest& r);

  // Maintenance and cluster.
  etcdserverpb::StatusResponse status();  // blocks on SQL (db size)
  etcdserverpb::AlarmResponse alarm(const etcdserverpb::AlarmRequest& r);
  etcdserverpb::HashKVResponse hash_kv(const etcdserverpb::HashKVRequest& r);  // blocks
  etcdserverpb::HashResponse hash();                                           // blocks
  etcdserverpb::MemberListResponse member_list();

  WatchHub& watch_hub() { return hub_; }
  Lessor& lessor() { return lessor_; }
  mvcc::Store& store() { return store_; }

 private:
  template <typename Resp>
  void write(std::function<void(mvcc::WriteTxn&, Resp*)> apply, Reply<Resp> reply,
             std::function<void(std::exception_ptr)> on_error = nullptr);
  uint32_t hash_rows(int64_t revision);

  mvcc::Store& store_;
  ServerOptions options_;
  Lessor lessor_;
  WatchHub hub_;
};

}  // namespace cairn::datastore::server
