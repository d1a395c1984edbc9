// The state x event table, cell by cell: every state is reached through the public API, then
// every event is injected and the resulting state compared with the expectation below (written
// independently of the table in engine_actions.cc). Cells not listed must leave the state alone.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "init/supervisor/engine_test_util.h"

namespace cairn::init::testing {
namespace {

using S = ServiceState;
using E = SupervisorEvent;

const S kStates[] = {S::Invalid,  S::Stopped, S::Waiting, S::Starting, S::Ready,
                     S::Stopping, S::Backoff, S::Exited,  S::Failed};
const E kEvents[] = {E::Start,         E::Stop,        E::DepsMet,      E::DepsFailed,
                     E::Ready,         E::StopNotice,  E::ReadyTimeout, E::MainExited,
                     E::CgroupEmpty,   E::StopTimeout, E::KillTimeout,  E::ReapTimeout,
                     E::BackoffElapsed};

// Brings service "s" (ready = notify, restart on-failure) into `state`.
void reach(EngineFixture& f, S state) {
  ServiceSpec s = make_spec("s", ReadyType::Notify);
  ServiceSpec dep = make_spec("dep", ReadyType::Notify);
  if (state == S::Exited || state == S::Failed) s.restart.policy = RestartPolicy::Never;
  if (state == S::Waiting) s.required = {"dep"};
  if (state == S::Invalid) {
    f.load({dep}, {invalid("s", "s.toml:3:1: error: unknown key 'exce'")});
    return;
  }
  f.load({s, dep});
  std::string err;
  switch (state) {
    case S::Stopped:
      return;
    case S::Waiting:
      ASSERT_TRUE(f.engine.start("s", err)) << err;
      return;
    default:
      break;
  }
  ASSERT_TRUE(f.engine.start("s", err)) << err;
  if (state == S::Starting) return;
  f.engine.on_ready("s");
  if (state == S::Ready) return;
  if (state == S::Stopping) {
    f.engine.stop("s", err);
    return;
  }
  f.exit("s", state == S::Exited ? exit_code(0) : exit_code(1));
}

struct Cell {
  S from;
  E event;
  S to;
};

// The documented outcome of each cell that changes something (docs/supervisor.md).
const Cell kExpected[] = {
    {S::Stopped, E::Start, S::Waiting},
    {S::Waiting, E::DepsMet, S::Starting},
    {S::Waiting, E::DepsFailed, S::Failed},
    {S::Waiting, E::Stop, S::Stopped},
    {S::Starting, E::Ready, S::Ready},
    {S::Starting, E::ReadyTimeout, S::Stopping},
    {S::Starting, E::StopNotice, S::Stopping},
    {S::Starting, E::MainExited, S::Backoff},    // exit 1, cgroup empty, on-failure
    {S::Starting, E::CgroupEmpty, S::Starting},  // waits for the exit status
    {S::Starting, E::ReapTimeout, S::Backoff},   // status unknown counts as a failure
    {S::Starting, E::Stop, S::Stopping},
    {S::Ready, E::StopNotice, S::Stopping},
    {S::Ready, E::MainExited, S::Backoff},
    {S::Ready, E::CgroupEmpty, S::Ready},
    {S::Ready, E::ReapTimeout, S::Backoff},
    {S::Ready, E::Stop, S::Stopping},
    {S::Stopping, E::MainExited, S::Stopped},  // operator stop: not wanted any more
    {S::Stopping, E::CgroupEmpty, S::Stopping},
    {S::Stopping, E::StopTimeout, S::Stopping},  // SIGKILL sent, still waiting
    {S::Stopping, E::KillTimeout, S::Stopped},
    {S::Stopping, E::ReapTimeout, S::Stopped},
    {S::Backoff, E::BackoffElapsed, S::Waiting},
    {S::Backoff, E::Stop, S::Stopped},
    {S::Exited, E::Start, S::Waiting},
    {S::Exited, E::Stop, S::Stopped},
    {S::Failed, E::Start, S::Waiting},
    {S::Failed, E::Stop, S::Stopped},
};

S expected(S from, E event) {
  for (const Cell& c : kExpected) {
    if (c.from == from && c.event == event) return c.to;
  }
  return from;
}

TEST(EngineTable, EveryCellBehavesAsDocumented) {
  for (S from : kStates) {
    for (E event : kEvents) {
      EngineFixture f;
      reach(f, from);
      ASSERT_EQ(f.state("s"), from) << "could not reach " << to_string(from);
      f.fx.populated_["s"] = false;  // a MainExited finds the cgroup empty
      f.engine.inject("s", event, exit_code(1));
      EXPECT_EQ(f.state("s"), expected(from, event))
          << to_string(from) << " x " << to_string(event);
    }
  }
}

TEST(EngineTable, EveryListedRowIsReachableAndUnique) {
  std::map<std::pair<S, E>, int> seen;
  for (const TransitionRow& row : transition_table()) {
    EXPECT_EQ(++seen[std::make_pair(row.state, row.event)], 1)
        << "duplicate row " << to_string(row.state) << " x " << to_string(row.event);
    EXPECT_NE(row.state, S::Invalid) << "an invalid service never changes state";
  }
  EXPECT_EQ(find_transition(S::Invalid, E::Start), nullptr);
}

TEST(EngineTable, StopTimeoutSendsSigkillToTheCgroup) {
  EngineFixture f;
  reach(f, S::Stopping);
  f.fx.calls.clear();
  f.engine.inject("s", E::StopTimeout);
  EXPECT_EQ(f.fx.calls_with("signal "), std::vector<std::string>{"signal s 9"});
}

// docs/supervisor.md carries the same table: | state | event | action |. Keep them in step.
TEST(EngineTable, DocumentationShowsTheSameTable) {
  std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/docs/supervisor.md");
  ASSERT_TRUE(in) << "docs/supervisor.md missing";
  std::set<std::tuple<std::string, std::string, std::string>> documented, coded;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("<!-- transition-table -->", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.rfind("<!-- /transition-table -->", 0) == 0) break;
    if (line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '|')) {
      auto a = cell.find('`'), b = cell.rfind('`');
      if (a != std::string::npos && b > a) cells.push_back(cell.substr(a + 1, b - a - 1));
    }
    ASSERT_GE(cells.size(), 3u) << line;
    documented.insert({cells[0], cells[1], cells[2]});
  }
  for (const TransitionRow& row : transition_table()) {
    coded.insert({to_string(row.state), to_string(row.event), to_string(row.action)});
  }
  EXPECT_EQ(documented, coded);
}

}  // namespace
}  // namespace cairn::init::testing
