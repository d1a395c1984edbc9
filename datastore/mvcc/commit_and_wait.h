// Test helper: runs one request on the store's writer and waits for its group commit, so a
// test reads its own writes. An exception from the request or the commit is rethrown here.
#pragma once

#include <exception>
#include <functional>
#include <future>

#include "datastore/mvcc/store.h"

namespace cairn::datastore::mvcc {

inline void commit_and_wait(Store& store, const std::function<void(WriteTxn&)>& fn) {
  std::promise<void> done;
  store.submit(fn, [&](std::exception_ptr e) {
    if (e) {
      done.set_exception(e);
    } else {
      done.set_value();
    }
  });
  done.get_future().get();
}

}  // namespace cairn::datastore::mvcc
