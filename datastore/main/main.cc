// cairn-datastore: a dqlite node plus the etcd v3 API, k8s-dqlite's role on a cairn node.
// Starts the node inside --storage-dir, serves gRPC on every --listen address, signals
// READY=1 to $NOTIFY_SOCKET once serving, and shuts down cleanly on SIGTERM/SIGINT.
// Writes are acknowledged only after dqlite committed them, so kill -9 loses nothing
// acknowledged.
#include <absl/synchronization/mutex.h>
#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include "datastore/api/services.h"
#include "datastore/dqlite/aio_reaper.h"
#include "datastore/dqlite/node.h"
#include "datastore/dqlite/raft_io_settings.h"
#include "datastore/main/memory.h"
#include "datastore/main/options.h"
#include "datastore/main/sd_notify.h"
#include "datastore/main/storage_dir.h"
#include "datastore/main/tls_files.h"
#include "datastore/mvcc/store.h"
#include "datastore/server/etcd_server.h"

namespace {

using namespace cairn::datastore;

std::shared_ptr<grpc::ServerCredentials> tcp_credentials(const cli::TlsFiles& tls) {
  if (tls.cert_chain_pem.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca_pem.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({tls.private_key_pem, tls.cert_chain_pem});
  return grpc::SslServerCredentials(ssl);
}

// Milliseconds on CLOCK_MONOTONIC (since boot on Linux): the clock cairn-init's boot timeline
// uses, so the start-up line below lines up with "started ... ready ..." there.
long long monotonic_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Where start-up time goes ("dqlite node 120 ms, store 30 ms, ..."): boot time under
// emulation is dominated by it, so it is logged once per start.
class StartupPhases {
 public:
  StartupPhases() : last_(monotonic_ms()), first_(last_) {}
  void done(const char* phase) {
    long long now = monotonic_ms();
    if (!text_.empty()) text_ += ", ";
    text_ += std::string(phase) + " " + std::to_string(now - last_) + " ms";
    last_ = now;
  }
  // "main() at <ms since boot>: <phases>; <total> ms"
  std::string summary() const {
    return "main() at " + std::to_string(first_) + " ms: " + text_ + "; " +
           std::to_string(last_ - first_) + " ms in all";
  }

 private:
  long long last_;
  long long first_;
  std::string text_;
};

// gRPC's core initialization (grpc_init: plugin registry, resolvers, event engine, timer and
// executor threads) is the largest part of building the server, and nothing in it depends
// on the store. It runs on a thread of its own while the dqlite node starts and the store
// opens, which mostly wait on raft and the disk; under emulation (QEMU TCG, the boot
// benchmark) that hides ~0.3-0.6 s of start-up. grpc_init() is reference counted and
// thread-safe: the server's own init later finds it done, and the destructor drops this
// reference after the server is gone.
class GrpcWarmup {
 public:
  GrpcWarmup() : thread_([] { grpc_init(); }) {}
  ~GrpcWarmup() {
    wait();
    grpc_shutdown();
  }
  GrpcWarmup(const GrpcWarmup&) = delete;
  GrpcWarmup& operator=(const GrpcWarmup&) = delete;
  void wait() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

// Per-connection SQLite page cache (SQLite's default is 2000 KiB, for each of the writer's
// and readers' connections).
constexpr int kPageCacheKib = 512;
// How often free heap pages go back to the kernel (malloc_trim walks the free lists: ~ms).
constexpr std::chrono::seconds kTrimPeriod{10};

int run(const cli::Options& opts, const cli::TlsFiles& tls, StartupPhases& phases) {
  // Before any gRPC thread exists: api::configure_builder() sets the same (see why there).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Constructed first, so it outlives the gRPC server below.
  GrpcWarmup grpc_warmup;
  cli::HeapTrimmer trimmer(kTrimPeriod);
  cli::StorageDir dir = cli::prepare_storage_dir(opts.storage_dir);
  phases.done("storage dir");

  cairn::dqlite::NodeOptions node_opts;
  node_opts.id = 1;
  node_opts.data_dir = dir.dqlite_dir;
  node_opts.bind_address = dir.node_address;
  // Snapshot often enough that raft's in-memory log stays small next to the database.
  node_opts.snapshot_threshold = opts.snapshot_threshold;
  node_opts.snapshot_trailing = opts.snapshot_trailing;
  node_opts.inline_io_destroy = opts.inline_io_destroy;
  // Read by the raft_uv_init wrapper (raft_uv_hook.cc) inside dqlite_node_create.
  cairn::dqlite::set_snapshot_compression(opts.snapshot_compression);
  cairn::dqlite::set_snapshot_pacing({opts.snapshot_log_ratio, opts.snapshot_threshold});
  std::unique_ptr<cairn::dqlite::Node> node;
  try {
    node = cairn::dqlite::Node::start(node_opts);
  } catch (const std::exception& e) {
    throw std::runtime_error("storage dir " + dir.root + ": cannot start dqlite: " + e.what());
  }
  phases.done("dqlite node");
  {
    // libraft's start-up probe of the storage's AIO support already destroyed a context: a
    // count of 0 in background mode means the syscall() wrapper is not in the call path (or
    // the filesystem has no direct I/O, so libraft uses no AIO at all).
    auto s = cairn::dqlite::io_destroy_stats();
    bool inline_mode = cairn::dqlite::io_destroy_mode() == cairn::dqlite::IoDestroyMode::kInline;
    std::fprintf(stderr, "cairn-datastore: raft io_destroy: %s (%llu so far)\n",
                 inline_mode ? "inline" : "background",
                 static_cast<unsigned long long>(s.deferred));
    std::fprintf(stderr, "cairn-datastore: allocator: %s\n", cli::allocator_name());
    // 0 would mean the wrapper is not in the call path: libraft's default (LZ4) runs.
    std::fprintf(stderr,
                 "cairn-datastore: raft snapshot compression: %s (applied to %llu raft I/O)\n",
                 cairn::dqlite::snapshot_compression() ? "on" : "off",
                 static_cast<unsigned long long>(cairn::dqlite::raft_uv_configured()));
    if (opts.snapshot_log_ratio != 0) {
      std::fprintf(stderr,
                   "cairn-datastore: raft snapshots: after >= %u entries and a log >= 1/%u of "
                   "the last snapshot, or after %u entries\n",
                   opts.snapshot_threshold, opts.snapshot_log_ratio,
                   cairn::dqlite::paced_snapshot_threshold(
                       {opts.snapshot_log_ratio, opts.snapshot_threshold}, 0, 1));
    } else {
      std::fprintf(stderr, "cairn-datastore: raft snapshots: every %u entries\n",
                   opts.snapshot_threshold);
    }
  }

  mvcc::StoreOptions store_opts;
  store_opts.client.addresses = {node->address()};
  // dqlite holds the database in memory already; a connection's page cache is a second copy.
  store_opts.client.page_cache_kib = kPageCacheKib;
  store_opts.linger = std::chrono::microseconds(opts.commit_linger_us);
  store_opts.linger_gap = std::chrono::microseconds(opts.commit_linger_gap_us);
  store_opts.linger_min_batch = opts.commit_linger_min_batch;
  std::unique_ptr<mvcc::Store> store;
  try {
    store = mvcc::Store::open(store_opts);
  } catch (const std::exception& e) {
    throw std::runtime_error("storage dir " + dir.root + ": cannot open the store: " + e.what());
  }
  phases.done("store");

  server::ServerOptions server_opts;
  server_opts.progress_interval = std::chrono::milliseconds(opts.progress_interval_ms);
  char host[256] = "cairn-datastore";
  gethostname(host, sizeof host - 1);
  server_opts.name = host;
  for (auto& l : opts.listen) server_opts.client_urls.push_back(l.url);
  server::EtcdServer etcd(*store, server_opts);
  etcd.start();
  phases.done("etcd server");
  grpc_warmup.wait();
  phases.done("gRPC init (overlapped)");

  api::Services services(etcd, 4);
  grpc::ServerBuilder builder;
  api::configure_builder(builder);
  services.register_with(builder);
  std::vector<int> ports(opts.listen.size(), 0);
  for (size_t i = 0; i < opts.listen.size(); ++i) {
    auto& l = opts.listen[i];
    if (l.kind == cli::Listen::Kind::kUnix) {
      struct stat st;
      if (::lstat(l.path_or_host_port.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
        ::unlink(l.path_or_host_port.c_str());  // left by a killed predecessor
      }
      builder.AddListeningPort("unix://" + l.path_or_host_port, grpc::InsecureServerCredentials(),
                               &ports[i]);
    } else {
      builder.AddListeningPort(l.path_or_host_port, tcp_credentials(tls), &ports[i]);
    }
  }
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (!grpc_server) throw std::runtime_error("cannot start the gRPC server");
  phases.done("gRPC server");
  for (size_t i = 0; i < opts.listen.size(); ++i) {
    if (ports[i] == 0) {
      grpc_server->Shutdown();
      throw std::runtime_error("--listen " + opts.listen[i].url + ": cannot listen there");
    }
    auto& l = opts.listen[i];
    if (l.kind == cli::Listen::Kind::kUnix) {
      std::fprintf(stderr, "cairn-datastore: serving on %s\n", l.url.c_str());
    } else {
      std::string hp = l.path_or_host_port;
      std::fprintf(stderr, "cairn-datastore: serving on tcp://%s:%d\n",
                   hp.substr(0, hp.rfind(':')).c_str(), ports[i]);
    }
  }
  std::fprintf(stderr, "cairn-datastore: revision %lld, storage %s\n",
               static_cast<long long>(store->revision()), dir.root.c_str());
  std::fprintf(stderr, "cairn-datastore: started: %s\n", phases.summary().c_str());
  try {
    cli::sd_notify("READY=1\nSTATUS=serving");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn-datastore: warning: %s\n", e.what());
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "cairn-datastore: signal %d, shutting down\n", sig);
  try {
    cli::sd_notify("STOPPING=1");
  } catch (const std::exception&) {
  }
  grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  etcd.stop();
  std::fprintf(stderr, "cairn-datastore: %llu requests in %llu group commits\n",
               static_cast<unsigned long long>(store->committed()),
               static_cast<unsigned long long>(store->commits()));
  // The rest is torn down by scope, in reverse order of construction: the gRPC server, the
  // EtcdServer (its destructor still touches the store), the store, then the dqlite node.
  // Resetting the store here freed it under ~EtcdServer (ASan: heap-use-after-free).
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  StartupPhases phases;  // first: everything main() does counts
  cli::configure_allocator();
  ::signal(SIGPIPE, SIG_IGN);
  // Block the stop signals before any thread starts, so only sigwait() receives them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  cli::Options opts;
  cli::TlsFiles tls;
  try {
    opts = cli::parse_options(argc, argv);
    if (!opts.help) tls = cli::load_tls_files(opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn-datastore: %s\n%s", e.what(), cli::usage());
    return 2;
  }
  if (opts.help) {
    std::fputs(cli::usage(), stdout);
    return 0;
  }
  phases.done("options");
  try {
    return run(opts, tls, phases);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn-datastore: error: %s\n", e.what());
    return 1;
  }
}
