#include "datastore/dqlite/raft_io_settings.h"

// libraft's headers have no extern "C" of their own.
extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

#include <atomic>

namespace cairn::dqlite {
namespace {
std::atomic<bool> compression{true};
std::atomic<uint64_t> configured{0};
}  // namespace

void set_snapshot_compression(bool on) {
  compression.store(on);
}
bool snapshot_compression() {
  return compression.load();
}

int configure_raft_uv(raft_io* io) {
  int rc = raft_uv_set_snapshot_compression(io, compression.load());
  if (rc == 0) configured.fetch_add(1);
  return rc;
}

uint64_t raft_uv_configured() {
  return configured.load();
}

}  // namespace cairn::dqlite
