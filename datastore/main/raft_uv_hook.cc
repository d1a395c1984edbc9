// Wraps libraft's raft_uv_init() so that every raft I/O libdqlite creates gets cairn's
// settings (datastore/dqlite/raft_io_settings.h says why and what).
//
// Two ways, chosen by the build (datastore/main/CMakeLists.txt):
// - CAIRN_RAFT_UV_WRAP (libraft linked statically): the linker's `--wrap=raft_uv_init` sends
//   libdqlite's call to __wrap_raft_uv_init, which calls the real one as __real_raft_uv_init.
// - otherwise (libraft.so): the executable defines and exports raft_uv_init, which interposes
//   libraft's for libdqlite.so's call, and forwards to the next definition (libraft's).
#include <dlfcn.h>
// libraft's headers have no extern "C" of their own.
extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

#include <cstdio>
#include <cstdlib>

#include "datastore/dqlite/raft_io_settings.h"

namespace {

// Applies cairn's settings to a raft_io that raft_uv_init() returned. Turning compression
// off cannot fail; turning it on fails only in a libraft built without LZ4, which then
// writes plain snapshots anyway: said once, and the node runs.
int configured(raft_io* io, int rc) {
  if (rc == 0) {
    int err = cairn::dqlite::configure_raft_uv(io);
    if (err != 0) {
      std::fprintf(stderr,
                   "cairn-datastore: raft snapshot compression unavailable (raft error %d)\n", err);
    }
  }
  return rc;
}

using RaftUvInit = int (*)(raft_io*, struct uv_loop_s*, const char*, raft_uv_transport*);

}  // namespace

#ifdef CAIRN_RAFT_UV_WRAP

extern "C" int __real_raft_uv_init(raft_io* io, struct uv_loop_s* loop, const char* dir,
                                   raft_uv_transport* transport);

extern "C" int __wrap_raft_uv_init(raft_io* io, struct uv_loop_s* loop, const char* dir,
                                   raft_uv_transport* transport) {
  return configured(io, __real_raft_uv_init(io, loop, dir, transport));
}

#else

extern "C" __attribute__((visibility("default"))) int raft_uv_init(raft_io* io,
                                                                   struct uv_loop_s* loop,
                                                                   const char* dir,
                                                                   raft_uv_transport* transport) {
  // Called once per node start, from dqlite_node_create: no need to cache the lookup.
  auto real = reinterpret_cast<RaftUvInit>(::dlsym(RTLD_NEXT, "raft_uv_init"));
  if (real == nullptr) {
    std::fputs("cairn-datastore: dlsym(RTLD_NEXT, \"raft_uv_init\") failed\n", stderr);
    std::abort();
  }
  return configured(io, real(io, loop, dir, transport));
}

#endif
