// A server bidi-stream reactor with an outgoing queue: any thread may enqueue responses;
// they are written one at a time in order. The stream finishes once the client closed its
// side (or the call was cancelled) and the queue is drained.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <deque>
#include <mutex>

namespace cairn::datastore::api {

template <typename Req, typename Resp>
class QueuedBidiReactor : public grpc::ServerBidiReactor<Req, Resp> {
 public:
  void begin() { this->StartRead(&request_); }

  void enqueue(Resp&& resp) {
    std::lock_guard lock(mu_);
    if (broken_ || finished_) return;
    queue_.push_back(std::move(resp));
    if (!writing_) {
      writing_ = true;
      this->StartWrite(&queue_.front());
    }
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      on_read_closed();
      std::lock_guard lock(mu_);
      read_closed_ = true;
      maybe_finish_locked();
      return;
    }
    on_request(request_);
    this->StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    queue_.pop_front();
    if (!ok) {
      broken_ = true;
      queue_.clear();
    }
    if (!queue_.empty()) {
      this->StartWrite(&queue_.front());
      return;
    }
    writing_ = false;
    maybe_finish_locked();
  }

 protected:
  virtual void on_request(const Req& request) = 0;
  virtual void on_read_closed() {}

 private:
  void maybe_finish_locked() {
    if (read_closed_ && !writing_ && !finished_) {
      finished_ = true;
      this->Finish(grpc::Status::OK);
    }
  }

  Req request_;
  std::mutex mu_;
  std::deque<Resp> queue_;  // deque: pushes keep the element being written in place
  bool writing_ = false;
  bool read_closed_ = false;
  bool broken_ = false;
  bool finished_ = false;
};

}  // namespace cairn::datastore::api
