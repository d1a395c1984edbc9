#include "datastore/dqlite/raft_io_settings.h"

// libraft's headers have no extern "C" of their own.
extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace cairn::dqlite {
namespace {
std::atomic<bool> compression{true};
std::atomic<uint64_t> configured{0};

std::mutex pacing_mu;
SnapshotPacing pacing_setting;  // guarded by pacing_mu

// One raft_io's pacing state; touched only on the io's loop thread once the node runs.
struct Pacer {
  SnapshotPacing pacing;
  decltype(raft_io::append) append = nullptr;              // libraft's own
  decltype(raft_io::snapshot_put) snapshot_put = nullptr;  // libraft's own
  uint64_t log_bytes = 0;                                  // appended since the last snapshot_put
  uint64_t snapshot_bytes = 0;                             // of the last snapshot_put
};

// Keyed by raft_io; a new io at an old address replaces the old entry. Locked briefly per
// append (a few hundred per second under load).
std::unordered_map<raft_io*, Pacer>& pacers() {
  static auto* m = new std::unordered_map<raft_io*, Pacer>;
  return *m;
}
Pacer* pacer_of(raft_io* io) {
  auto it = pacers().find(io);
  return it == pacers().end() ? nullptr : &it->second;
}

// raft_init() stores the raft in io->data; the raft's own io pointer confirms it.
raft* raft_of(raft_io* io) {
  auto* r = static_cast<raft*>(io->data);
  return r != nullptr && r->io == io ? r : nullptr;
}

int paced_append(raft_io* io, raft_io_append* req, const raft_entry entries[], unsigned n,
                 raft_io_append_cb cb) {
  decltype(raft_io::append) append;
  {
    std::lock_guard lock(pacing_mu);
    Pacer* p = pacer_of(io);
    for (unsigned i = 0; i < n; i++) p->log_bytes += entries[i].buf.len;
    if (raft* r = raft_of(io)) {
      unsigned t = paced_snapshot_threshold(p->pacing, p->log_bytes, p->snapshot_bytes);
      if (t != r->snapshot.threshold) raft_set_snapshot_threshold(r, t);
    }
    append = p->append;
  }
  return append(io, req, entries, n, cb);
}

int paced_snapshot_put(raft_io* io, unsigned trailing, raft_io_snapshot_put* req,
                       const raft_snapshot* snapshot, raft_io_snapshot_put_cb cb) {
  decltype(raft_io::snapshot_put) put;
  {
    std::lock_guard lock(pacing_mu);
    Pacer* p = pacer_of(io);
    uint64_t bytes = 0;
    for (unsigned i = 0; i < snapshot->n_bufs; i++) bytes += snapshot->bufs[i].len;
    p->snapshot_bytes = bytes;
    p->log_bytes = 0;
    put = p->snapshot_put;
  }
  return put(io, trailing, req, snapshot, cb);
}

}  // namespace

void set_snapshot_pacing(SnapshotPacing pacing) {
  std::lock_guard lock(pacing_mu);
  pacing_setting = pacing;
}
SnapshotPacing snapshot_pacing() {
  std::lock_guard lock(pacing_mu);
  return pacing_setting;
}

unsigned paced_snapshot_threshold(const SnapshotPacing& pacing, uint64_t log_bytes,
                                  uint64_t last_snapshot_bytes) {
  if (pacing.log_ratio == 0 || log_bytes * pacing.log_ratio >= last_snapshot_bytes) {
    return pacing.min_entries;
  }
  uint64_t most = uint64_t{pacing.min_entries} * 64;
  return most > UINT32_MAX ? UINT32_MAX : static_cast<unsigned>(most);
}

void set_snapshot_compression(bool on) {
  compression.store(on);
}
bool snapshot_compression() {
  return compression.load();
}

int configure_raft_uv(raft_io* io) {
  // Pacing first: it does not depend on the compression setting taking.
  {
    std::lock_guard lock(pacing_mu);
    if (pacing_setting.log_ratio != 0 && pacing_setting.min_entries != 0) {
      Pacer& p = pacers()[io];
      p = Pacer{};
      p.pacing = pacing_setting;
      p.append = io->append;
      p.snapshot_put = io->snapshot_put;
      io->append = paced_append;
      io->snapshot_put = paced_snapshot_put;
    } else {
      pacers().erase(io);
    }
  }
  int rc = raft_uv_set_snapshot_compression(io, compression.load());
  if (rc == 0) configured.fetch_add(1);
  return rc;
}

uint64_t raft_uv_configured() {
  return configured.load();
}

}  // namespace cairn::dqlite
