#include "datastore/testing/temp_node.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace cairn::datastore::testing {

TempNode::TempNode() {
  char tmpl[] = "/tmp/cairn-ds-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  // dqlite 1.11 binds abstract unix sockets only; unique per process and node, and stable
  // across restarts (raft remembers it).
  static int counter = 0;
  address_ = "@cairn-ds-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
  restart();
}

TempNode::~TempNode() {
  node_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void TempNode::restart() {
  node_.reset();
  dqlite::NodeOptions opts;
  opts.id = 1;
  opts.data_dir = dir_ + "/data";
  opts.bind_address = address_;
  node_ = dqlite::Node::start(opts);
}

dqlite::ClientOptions TempNode::client_options() const {
  dqlite::ClientOptions o;
  o.addresses = {node_->address()};
  return o;
}

}  // namespace cairn::datastore::testing
