#include "datastore/server/lessor.h"

#include <cmath>
#include <random>

#include "datastore/server/errors.h"

namespace cairn::datastore::server {

Lessor::Lessor(mvcc::Store& store) : store_(store) {
  std::random_device rd;
  next_id_seed_ = (uint64_t(rd()) << 32) ^ rd();
}

Lessor::~Lessor() {
  stop();
}

void Lessor::start() {
  {
    std::lock_guard lock(mu_);
    auto now = Clock::now();
    for (auto& [id, ttl] : store_.initial_leases()) {
      leases_[id] = Lease{ttl, now + std::chrono::seconds(ttl), false};
    }
  }
  thread_ = std::thread([this] { expiry_loop(); });
}

void Lessor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Lessor::exists(int64_t id) const {
  std::lock_guard lock(mu_);
  return leases_.count(id) != 0;
}

int64_t Lessor::apply_grant(mvcc::WriteTxn& txn, int64_t id, int64_t ttl) {
  if (ttl > kMaxLeaseTtl) throw errors::lease_ttl_too_large();
  if (ttl < kMinLeaseTtl) ttl = kMinLeaseTtl;
  {
    std::lock_guard lock(mu_);
    if (id == 0) {
      // Positive, unused, not predictable across restarts (etcd uses its request id generator).
      do {
        next_id_seed_ = next_id_seed_ * 6364136223846793005ULL + 1442695040888963407ULL;
        id = int64_t(next_id_seed_ >> 1);
      } while (id == 0 || leases_.count(id));
    } else if (id < 0) {
      throw RequestError(grpc::INVALID_ARGUMENT, "etcdserver: lease ID must be positive");
    } else if (leases_.count(id)) {
      throw errors::lease_exists();
    }
    leases_[id] = Lease{ttl, Clock::now() + std::chrono::seconds(ttl), false};
    cv_.notify_all();
  }
  txn.lease_put(id, ttl);
  return id;
}

void Lessor::apply_revoke(mvcc::WriteTxn& txn, int64_t id) {
  {
    std::lock_guard lock(mu_);
    if (!leases_.erase(id)) throw errors::lease_not_found();
  }
  for (auto& key : txn.keys_of_lease(id)) txn.del(key);
  txn.lease_delete(id);
}

void Lessor::forget(int64_t id) {
  std::lock_guard lock(mu_);
  leases_.erase(id);
}

void Lessor::restore(int64_t id, int64_t ttl) {
  std::lock_guard lock(mu_);
  leases_[id] = Lease{ttl, Clock::now() + std::chrono::seconds(ttl), false};
  cv_.notify_all();
}

std::optional<int64_t> Lessor::keep_alive(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  it->second.deadline = Clock::now() + std::chrono::seconds(it->second.ttl);
  cv_.notify_all();
  return it->second.ttl;
}

std::optional<Lessor::Info> Lessor::info(int64_t id) const {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  double left = std::chrono::duration<double>(it->second.deadline - Clock::now()).count();
  return Info{it->second.ttl, left <= 0 ? 0 : int64_t(std::ceil(left))};
}

std::vector<int64_t> Lessor::ids() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> out;
  for (auto& [id, _] : leases_) out.push_back(id);
  return out;
}

void Lessor::expiry_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = Clock::now();
    auto next = Clock::time_point::max();
    std::vector<int64_t> expired;
    for (auto& [id, lease] : leases_) {
      if (lease.revoking) continue;
      if (lease.deadline <= now) {
        lease.revoking = true;
        expired.push_back(id);
      } else if (lease.deadline < next) {
        next = lease.deadline;
      }
    }
    if (!expired.empty()) {
      lock.unlock();
      for (int64_t id : expired) {
        store_.submit(
            [this, id](mvcc::WriteTxn& txn) {
              {
                std::lock_guard l(mu_);
                auto it = leases_.find(id);
                if (it == leases_.end()) return;           // revoked meanwhile
                if (it->second.deadline > Clock::now()) {  // kept alive meanwhile
                  it->second.revoking = false;
                  cv_.notify_all();
                  return;
                }
              }
              apply_revoke(txn, id);
            },
            [this, id](std::exception_ptr err) {
              if (!err) return;
              // Not committed: try again later.
              std::lock_guard l(mu_);
              auto it = leases_.find(id);
              if (it != leases_.end()) {
                it->second.revoking = false;
              } else {
                leases_[id] = Lease{kMinLeaseTtl, Clock::now() + std::chrono::seconds(1), false};
              }
              cv_.notify_all();
            });
      }
      lock.lock();
      continue;
    }
    if (next == Clock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, next);
    }
  }
}

}  // namespace cairn::datastore::server
