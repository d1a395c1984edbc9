// Embeds a libdqlite 1.11 node: validates and locks the data dir, binds the socket,
// bootstraps (id 1) or restarts from existing raft state, and waits until it serves.
#include "datastore/dqlite/node.h"

// dqlite.h (1.11) has no extern "C" guard of its own.
extern "C" {
#include <dqlite.h>
}

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "datastore/dqlite/aio_reaper.h"
#include "datastore/dqlite/client.h"
#include "datastore/dqlite/data_dir.h"

namespace cairn::dqlite {
namespace {

// dqlite_node_create/destroy register and unregister a SQLite VFS in SQLite's global list,
// which is not thread-safe against concurrent registrations: serialize node lifecycles.
std::mutex& lifecycle_mutex() {
  static std::mutex m;
  return m;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("dqlite node: " + what);
}

void check_bind_address(const std::string& a) {
  if (a.empty()) fail("no bind address given");
  if (a == "@") {
    fail(
        "bind address '@' (auto-named abstract socket) is not supported: the address is "
        "stored in the raft configuration, so give a stable name like '@cairn-dqlite'");
  }
  if (a[0] == '/') {
    fail("bind address '" + a +
         "': libdqlite 1.11 can bind only an abstract unix socket ('@name') or 'ipv4:port', "
         "not a filesystem socket");
  }
  if (a[0] != '@' && a.find(':') == std::string::npos) {
    fail("bind address '" + a + "' must be '@name' or 'ipv4:port'");
  }
}

// Binds the address once ourselves and releases it, so "address in use" is reported before
// libdqlite is involved (a failed dqlite start leaks its raft state, see DataDir's notes).
// A race with another process binding in between is caught again by dqlite.
void probe_bind(const std::string& a) {
  int fd = -1;
  int rc = -1;
  if (a[0] == '@') {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (a.size() >= sizeof sa.sun_path) fail("bind address '" + a + "' is too long");
    std::memcpy(sa.sun_path + 1, a.data() + 1, a.size() - 1);
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket: " + std::string(std::strerror(errno)));
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa),
                static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.size()));
  } else {
    size_t colon = a.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    char* end = nullptr;
    long port = std::strtol(a.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535 ||
        ::inet_pton(AF_INET, a.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
      fail("bind address '" + a +
           "' must be '@name' or 'ipv4:port' (libdqlite 1.11 binds IPv4 "
           "addresses only, no host names)");
    }
    sa.sin_port = htons(static_cast<uint16_t>(port));
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket: " + std::string(std::strerror(errno)));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  int err = errno;
  ::close(fd);
  if (rc != 0) fail("cannot bind " + a + ": " + std::strerror(err));
}

// libdqlite/libraft write to peer sockets without MSG_NOSIGNAL: a peer that went away
// would kill the whole process with SIGPIPE. Ignore it unless the program chose a handler.
void ignore_sigpipe() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    ::signal(SIGPIPE, SIG_IGN);
  }
}

class NodeImpl final : public Node {
 public:
  NodeImpl(uint64_t id, std::string address, DataDir dir)
      : id_(id), address_(std::move(address)), dir_(std::move(dir)) {}
  ~NodeImpl() override { stop(); }

  uint64_t id() const override { return id_; }
  std::string address() const override { return address_; }

  void stop() override {
    if (node_ == nullptr) return;
    std::lock_guard<std::mutex> lock(lifecycle_mutex());
    if (running_) dqlite_node_stop(node_);
    dqlite_node_destroy(node_);
    node_ = nullptr;
    running_ = false;
  }

  void start(const NodeOptions& options) {
    std::lock_guard<std::mutex> lock(lifecycle_mutex());
    int rc = dqlite_node_create(id_, address_.c_str(), dir_.path().c_str(), &node_);
    if (rc != 0 || node_ == nullptr) {
      node_ = nullptr;
      fail("cannot create node " + std::to_string(id_) + " in " + dir_.path() + " (dqlite error " +
           std::to_string(rc) + ")");
    }
    errno = 0;
    rc = dqlite_node_set_bind_address(node_, address_.c_str());
    if (rc != 0) {
      int err = errno;
      destroy_unstarted();
      fail("cannot bind " + address_ + ": " +
           (err != 0 ? std::string(std::strerror(err)) : "dqlite error " + std::to_string(rc)));
    }
    if (options.snapshot_threshold != 0 || options.snapshot_trailing != 0) {
      unsigned threshold = options.snapshot_threshold != 0 ? options.snapshot_threshold : 1024;
      unsigned trailing = options.snapshot_trailing != 0 ? options.snapshot_trailing : 8192;
      if (dqlite_node_set_snapshot_params(node_, threshold, trailing) != 0) {
        destroy_unstarted();
        fail("invalid snapshot params (threshold " + std::to_string(threshold) + ", trailing " +
             std::to_string(trailing) + "): trailing must be >= 4 and >= threshold");
      }
    }
    rc = dqlite_node_start(node_);
    if (rc != 0) {
      std::string msg = dqlite_node_errmsg(node_);
      // raft_start runs on the node's thread: when it failed the thread has exited and must
      // be joined (dqlite_node_stop does that); a failed bootstrap never started it.
      if (msg.rfind("raft_start", 0) == 0) dqlite_node_stop(node_);
      dqlite_node_destroy(node_);
      node_ = nullptr;
      fail("cannot start node " + std::to_string(id_) + " from " + dir_.path() + ": " +
           (msg.empty() ? "dqlite error " + std::to_string(rc) : msg) +
           (msg.find("raft_start") != std::string::npos
                ? " (raft could not load its log/snapshots: corrupt or foreign data)"
                : ""));
    }
    running_ = true;
  }

 private:
  void destroy_unstarted() {
    dqlite_node_destroy(node_);
    node_ = nullptr;
  }

  uint64_t id_;
  std::string address_;
  DataDir dir_;
  dqlite_node* node_ = nullptr;
  bool running_ = false;
};

// Waits until the node leads and checks that the raft configuration knows it by the address
// it binds: dqlite hands that stored address to clients as the leader's.
void verify_serving(Node& node, const NodeOptions& options) {
  ClientOptions co;
  co.addresses = {node.address()};
  co.connect_timeout_ms = 30000;
  auto client = Client::connect(co);
  for (const Client::NodeInfo& n : client->cluster()) {
    if (n.id == options.id && n.address != options.bind_address) {
      fail("data dir " + options.data_dir + " belongs to a node with address '" + n.address +
           "', but this node binds '" + options.bind_address +
           "': start it with the same bind address");
    }
  }
}

}  // namespace

std::string library_version() {
  int v = dqlite_version_number();
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
         std::to_string(v % 100);
}

std::unique_ptr<Node> Node::start(const NodeOptions& options) {
  if (options.id == 0) fail("node id must be > 0");
  check_bind_address(options.bind_address);
  if (!options.join.empty() && options.id == 1) {
    fail("node id 1 always bootstraps its own cluster in dqlite; a joining node needs id > 1");
  }
  ignore_sigpipe();
  set_io_destroy_mode(options.inline_io_destroy ? IoDestroyMode::kInline
                                                : IoDestroyMode::kBackground);
  probe_bind(options.bind_address);
  DataDir dir = DataDir::prepare(options.data_dir);
  const bool join = dir.fresh() && !options.join.empty();
  if (dir.fresh() && options.id != 1 && !join) {
    fail("node id " + std::to_string(options.id) + " has no raft state in " + options.data_dir +
         " and dqlite bootstraps a new cluster only as node 1 (give join addresses)");
  }
  auto node = std::make_unique<NodeImpl>(options.id, options.bind_address, std::move(dir));
  node->start(options);
  if (join) {
    // A fresh node joins through the cluster's leader; later restarts find the
    // membership in their own raft state and ignore `join`.
    try {
      ClientOptions co;
      co.addresses = options.join;
      co.connect_timeout_ms = 30000;
      co.request_timeout_ms = 60000;
      auto leader = Client::connect(co);
      leader->add_node(options.id, options.bind_address);
      leader->assign_role(options.id, 0);
    } catch (const Error& e) {
      node->stop();
      fail("cannot join the cluster as node " + std::to_string(options.id) + " at " +
           options.bind_address + ": " + e.what());
    }
  }
  try {
    verify_serving(*node, options);
  } catch (const Error& e) {
    node->stop();
    fail(std::string("started but does not serve: ") + e.what());
  }
  return node;
}

}  // namespace cairn::dqlite
