// A fixed pool of threads for work that blocks on SQL (Range, Status, Hash), so gRPC's
// callback threads never block.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cairn::datastore::api {

class Executor {
 public:
  explicit Executor(size_t threads);
  ~Executor();  // runs what is queued, then joins
  void post(std::function<void()> task);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cairn::datastore::api
