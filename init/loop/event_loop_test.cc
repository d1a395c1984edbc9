#include "init/loop/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace cairn::init {
namespace {

using std::chrono::milliseconds;

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    close(r);
    close(w);
  }
};

TEST(EventLoop, DispatchesReadableFd) {
  EventLoop loop;
  Pipe p;
  int calls = 0;
  ASSERT_TRUE(loop.watch(p.r, EPOLLIN, [&](uint32_t ev) {
    EXPECT_TRUE(ev & EPOLLIN);
    char c;
    EXPECT_EQ(read(p.r, &c, 1), 1);
    ++calls;
  }));
  loop.run_once(milliseconds(0));
  EXPECT_EQ(calls, 0);
  ASSERT_EQ(write(p.w, "x", 1), 1);
  loop.run_once(milliseconds(1000));
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(loop.watching(p.r));
  loop.unwatch(p.r);
  EXPECT_FALSE(loop.watching(p.r));
  ASSERT_EQ(write(p.w, "x", 1), 1);
  loop.run_once(milliseconds(0));
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, CallbackMayUnwatchItselfAndOthers) {
  EventLoop loop;
  Pipe a, b;
  int a_calls = 0, b_calls = 0;
  // Whichever runs first unwatches both: the other must not be dispatched in this round.
  auto both = [&]() {
    loop.unwatch(a.r);
    loop.unwatch(b.r);
  };
  loop.watch(a.r, EPOLLIN, [&](uint32_t) {
    ++a_calls;
    both();
  });
  loop.watch(b.r, EPOLLIN, [&](uint32_t) {
    ++b_calls;
    both();
  });
  ASSERT_EQ(write(a.w, "x", 1), 1);
  ASSERT_EQ(write(b.w, "x", 1), 1);
  loop.run_once(milliseconds(1000));
  EXPECT_EQ(a_calls + b_calls, 1);
}

TEST(EventLoop, RewatchedFdGetsNewCallbackOnly) {
  EventLoop loop;
  Pipe p;
  std::string seen;
  loop.watch(p.r, EPOLLIN, [&](uint32_t) { seen += "old"; });
  loop.watch(p.r, EPOLLIN, [&](uint32_t) {
    seen += "new";
    loop.unwatch(p.r);
  });
  ASSERT_EQ(write(p.w, "x", 1), 1);
  loop.run_once(milliseconds(1000));
  EXPECT_EQ(seen, "new");
}

TEST(EventLoop, WatchRejectsBadFd) {
  EventLoop loop;
  EXPECT_FALSE(loop.watch(-1, EPOLLIN, [](uint32_t) {}));
  EXPECT_FALSE(loop.modify(12345, EPOLLIN));
}

TEST(EventLoop, TimersFireInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> order;
  loop.add_timer(milliseconds(30), [&] { order.push_back(3); });
  loop.add_timer(milliseconds(10), [&] { order.push_back(1); });
  loop.add_timer(milliseconds(20), [&] { order.push_back(2); });
  loop.add_timer(milliseconds(10), [&] { order.push_back(11); });  // same deadline: FIFO-ish
  auto start = loop.now();
  while (order.size() < 4 && loop.now() - start < std::chrono::seconds(10)) {
    loop.run_once(milliseconds(1000));
  }
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[2], 2);
  EXPECT_EQ(order[3], 3);
  EXPECT_TRUE((order[0] == 1 && order[1] == 11) || (order[0] == 11 && order[1] == 1));
  EXPECT_GE(loop.now() - start, milliseconds(30));
}

TEST(EventLoop, CancelledTimerNeverFires) {
  EventLoop loop;
  int fired = 0;
  auto id = loop.add_timer(milliseconds(0), [&] { ++fired; });
  ASSERT_NE(id, 0u);
  EXPECT_EQ(loop.pending_timers(), 1u);
  loop.cancel_timer(id);
  EXPECT_EQ(loop.pending_timers(), 0u);
  loop.run_once(milliseconds(20));
  EXPECT_EQ(fired, 0);
  loop.cancel_timer(id);  // twice is harmless
  loop.cancel_timer(999);
}

TEST(EventLoop, TimerMayCancelAnotherDueTimer) {
  EventLoop loop;
  int second = 0;
  EventLoop::TimerId b = 0;
  loop.add_timer(milliseconds(0), [&] { loop.cancel_timer(b); });
  b = loop.add_timer(milliseconds(0), [&] { ++second; });
  loop.run_once(milliseconds(50));
  loop.run_once(milliseconds(0));
  EXPECT_EQ(second, 0);
}

TEST(EventLoop, TimerAddedByTimerWaitsForNextRound) {
  EventLoop loop;
  std::vector<int> order;
  loop.add_timer(milliseconds(0), [&] {
    order.push_back(1);
    // Many additions force `due` and the heap to grow while the round iterates.
    for (int i = 0; i < 100; ++i) loop.add_timer(milliseconds(0), [&] { order.push_back(2); });
  });
  loop.add_timer(milliseconds(0), [&] { order.push_back(3); });
  loop.run_once(milliseconds(50));
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], 1);
  EXPECT_EQ(order[1], 3);
  loop.run_once(milliseconds(50));
  EXPECT_EQ(order.size(), 102u);
}

TEST(EventLoop, RunUntilStop) {
  EventLoop loop;
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks == 5) {
      loop.stop();
    } else {
      loop.add_timer(milliseconds(1), tick);
    }
  };
  loop.add_timer(milliseconds(1), tick);
  loop.run();
  EXPECT_EQ(ticks, 5);
}

TEST(EventLoop, RunOnceHonoursMaxWaitWithoutEvents) {
  EventLoop loop;
  auto start = loop.now();
  loop.run_once(milliseconds(30));
  EXPECT_GE(loop.now() - start, milliseconds(25));
}

}  // namespace
}  // namespace cairn::init
