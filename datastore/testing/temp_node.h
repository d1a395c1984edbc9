// Test fixture: a real dqlite node in a fresh temporary directory, removed afterwards.
#pragma once

#include <memory>
#include <string>

#include "datastore/dqlite/client.h"
#include "datastore/dqlite/node.h"

namespace cairn::datastore::testing {

class TempNode {
 public:
  TempNode();
  ~TempNode();
  const std::string& dir() const { return dir_; }
  dqlite::ClientOptions client_options() const;
  // Stops and starts the node again on the same directory (restart / recovery tests).
  void restart();

 private:
  std::string dir_;
  std::string address_;
  std::unique_ptr<dqlite::Node> node_;
};

}  // namespace cairn::datastore::testing
