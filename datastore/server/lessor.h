// Leases: grant/revoke go through the store (one SQL row per lease, so leases survive a
// restart); keep-alive and expiry deadlines are in memory, as in etcd (a restart gives every
// lease a fresh TTL). An expiry thread revokes leases whose deadline passed, deleting their
// keys through the writer, which emits the delete events.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "datastore/mvcc/store.h"
#include "datastore/proto/rpc.pb.h"

namespace cairn::datastore::server {

inline constexpr int64_t kMinLeaseTtl = 2;  // etcd's minimum with default raft timing
inline constexpr int64_t kMaxLeaseTtl = 9000000000LL;

class Lessor {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Lessor(mvcc::Store& store);
  ~Lessor();

  // Loads persisted leases (fresh deadlines) and starts the expiry thread.
  void start();
  void stop();

  // --- on the writer thread (inside a store Apply) ---
  bool exists(int64_t id) const;
  // Grants (id 0 = choose one); returns the id. Throws RequestError.
  int64_t apply_grant(mvcc::WriteTxn& txn, int64_t id, int64_t ttl);
  // Deletes the lease and its keys. Throws lease_not_found.
  void apply_revoke(mvcc::WriteTxn& txn, int64_t id);
  // Undo of apply_grant/apply_revoke's in-memory part when the batch failed to commit.
  void forget(int64_t id);
  void restore(int64_t id, int64_t ttl);

  // --- from any thread ---
  // Renews the deadline; returns the granted TTL, or nullopt if the lease does not exist.
  std::optional<int64_t> keep_alive(int64_t id);
  struct Info {
    int64_t granted_ttl = 0;
    int64_t remaining_ttl = 0;
  };
  std::optional<Info> info(int64_t id) const;
  std::vector<int64_t> ids() const;

 private:
  struct Lease {
    int64_t ttl = 0;
    Clock::time_point deadline;
    bool revoking = false;  // an expiry revoke is queued
  };
  void expiry_loop();

  mvcc::Store& store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Lease> leases_;
  bool stopping_ = false;
  std::thread thread_;
  uint64_t next_id_seed_;
};

}  // namespace cairn::datastore::server
