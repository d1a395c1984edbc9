// Behaviour of the engine through its public API, time driven by FakeEffects.
#include "init/supervisor/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "init/supervisor/engine_internal.h"
#include "init/supervisor/engine_test_util.h"

namespace cairn::init::testing {
namespace {

using S = ServiceState;
using ::testing::HasSubstr;

TEST(Engine, StartsInDependencyOrderAndWaitsForReadiness) {
  EngineFixture f;
  ServiceSpec db = make_spec("db", ReadyType::Notify);
  ServiceSpec api = make_spec("api", ReadyType::Fd);
  api.required = {"db"};
  ServiceSpec web = make_spec("web");
  web.required = {"api"};
  ServiceSpec metrics = make_spec("metrics");
  metrics.after = {"db"};
  f.load({web, api, db, metrics});
  f.engine.start_all();
  EXPECT_EQ(f.fx.calls_with("start "), std::vector<std::string>{"start db"});
  EXPECT_EQ(f.state("api"), S::Waiting);
  EXPECT_THAT(f.error("api"), HasSubstr("waiting for 'db'"));
  EXPECT_EQ(f.state("metrics"), S::Waiting);

  f.engine.on_ready("db");
  EXPECT_EQ(f.state("db"), S::Ready);
  EXPECT_EQ(f.fx.calls_with("start "),
            (std::vector<std::string>{"start db", "start api", "start metrics"}));
  EXPECT_EQ(f.state("metrics"), S::Ready);  // ready type none: ready at spawn
  EXPECT_EQ(f.state("web"), S::Waiting);
  f.engine.on_ready("api");
  EXPECT_EQ(f.state("web"), S::Ready);
  EXPECT_TRUE(f.engine.node_ready());
}

TEST(Engine, AfterIsOrderingOnlyAFailedPredecessorDoesNotBlock) {
  EngineFixture f;
  ServiceSpec a = make_spec("a", ReadyType::Notify);
  a.restart.policy = RestartPolicy::Never;
  ServiceSpec b = make_spec("b");
  b.after = {"a"};
  f.load({a, b});
  f.engine.start_all();
  EXPECT_EQ(f.state("b"), S::Waiting);
  f.exit("a", exit_code(3));
  EXPECT_EQ(f.state("a"), S::Failed);
  EXPECT_EQ(f.state("b"), S::Ready);
}

TEST(Engine, RequiringAnInvalidServiceFailsWithItsReasonOthersRun) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  a.required = {"broken"};
  ServiceSpec b = make_spec("b");
  ServiceSpec c = make_spec("c");
  c.required = {"ghost"};
  f.load({a, b, c}, {invalid("broken", "broken.toml:4:9: error: expected a string")});
  f.engine.start_all();
  EXPECT_EQ(f.state("broken"), S::Invalid);
  EXPECT_EQ(f.state("a"), S::Failed);
  EXPECT_THAT(f.error("a"), HasSubstr("requires 'broken', which is invalid"));
  EXPECT_THAT(f.error("a"), HasSubstr("broken.toml:4:9"));
  EXPECT_EQ(f.state("c"), S::Failed);
  EXPECT_THAT(f.error("c"), HasSubstr("unknown service 'ghost'"));
  EXPECT_EQ(f.state("b"), S::Ready);
  EXPECT_EQ(f.fx.calls_with("start "), std::vector<std::string>{"start b"});
  std::string err;
  EXPECT_FALSE(f.engine.start("broken", err));
  EXPECT_THAT(err, HasSubstr("invalid"));
  EXPECT_FALSE(f.engine.start("nope", err));
  EXPECT_THAT(err, HasSubstr("unknown service"));
}

TEST(Engine, StopOfARequiredServiceStopsDependentsFirst) {
  EngineFixture f;
  ServiceSpec db = make_spec("db");
  ServiceSpec api = make_spec("api");
  api.required = {"db"};
  ServiceSpec side = make_spec("side");
  side.after = {"db"};  // ordering only: keeps running
  f.load({db, api, side});
  f.engine.start_all();
  ASSERT_EQ(f.state("api"), S::Ready);
  f.fx.calls.clear();
  std::string err;
  ASSERT_TRUE(f.engine.stop("db", err));
  EXPECT_EQ(f.fx.calls_with("signal "), std::vector<std::string>{"signal api 15"});
  EXPECT_EQ(f.state("db"), S::Ready);  // still up until api is down
  f.exit("api", killed_by(SIGTERM));
  EXPECT_EQ(f.state("api"), S::Stopped);
  EXPECT_EQ(f.fx.calls_with("signal "),
            (std::vector<std::string>{"signal api 15", "signal db 15"}));
  f.exit("db", exit_code(0));
  EXPECT_EQ(f.state("db"), S::Stopped);
  EXPECT_EQ(f.state("side"), S::Ready);
}

TEST(Engine, ShutdownStopsInReverseDependencyOrderThenCallsDone) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  ServiceSpec b = make_spec("b");
  b.required = {"a"};
  ServiceSpec c = make_spec("c");
  c.after = {"b"};
  f.load({a, b, c});
  f.engine.start_all();
  int done = 0;
  f.fx.calls.clear();
  f.engine.shutdown([&] { ++done; });
  EXPECT_EQ(f.fx.calls_with("signal "), std::vector<std::string>{"signal c 15"});
  f.exit("c", killed_by(SIGTERM));
  EXPECT_EQ(f.fx.calls_with("signal ").back(), "signal b 15");
  f.exit("b", killed_by(SIGTERM));
  EXPECT_EQ(f.fx.calls_with("signal ").back(), "signal a 15");
  EXPECT_EQ(done, 0);
  f.exit("a", killed_by(SIGTERM));
  EXPECT_EQ(done, 1);
  std::string err;
  EXPECT_FALSE(f.engine.start("a", err));
  EXPECT_EQ(err, "shutting down");
}

TEST(Engine, StopTimeoutEscalatesToSigkillThenGivesUp) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  a.stop.signal = SIGINT;
  a.stop.timeout = Duration(2'000);
  f.load({a});
  f.engine.start_all();
  int done = 0;
  f.engine.shutdown([&] { ++done; });
  EXPECT_EQ(f.fx.calls_with("signal ").back(), "signal a 2");
  f.fx.advance(1'999);
  EXPECT_EQ(f.fx.calls_with("signal ").size(), 1u);
  f.fx.advance(1);
  EXPECT_EQ(f.fx.calls_with("signal ").back(), "signal a 9");
  EXPECT_EQ(f.state("a"), S::Stopping);
  f.fx.advance(kKillGraceMs);
  EXPECT_EQ(f.state("a"), S::Stopped);
  EXPECT_EQ(done, 1);
}

TEST(Engine, StoppedMeansCgroupEmptyNotJustMainExit) {
  EngineFixture f;
  f.load({make_spec("a")});
  f.engine.start_all();
  std::string err;
  f.engine.stop("a", err);
  f.exit("a", killed_by(SIGTERM), /*leftovers=*/true);
  EXPECT_EQ(f.state("a"), S::Stopping);
  f.empty("a");
  EXPECT_EQ(f.state("a"), S::Stopped);
}

TEST(Engine, MainExitWithLeftoversStopsTheRestThenRestarts) {
  EngineFixture f;
  f.load({make_spec("a")});
  f.engine.start_all();
  f.fx.calls.clear();
  f.exit("a", exit_code(1), /*leftovers=*/true);
  EXPECT_EQ(f.state("a"), S::Stopping);
  EXPECT_EQ(f.fx.calls_with("signal "), std::vector<std::string>{"signal a 15"});
  f.empty("a");
  EXPECT_EQ(f.state("a"), S::Backoff);
  EXPECT_THAT(f.error("a"), HasSubstr("exited with status 1"));
}

TEST(Engine, CgroupEmptyBeforeReapWaitsForTheExitStatus) {
  EngineFixture f;
  f.load({make_spec("a")});
  f.engine.start_all();
  pid_t pid = f.engine.pid_of("a");
  f.empty("a");
  EXPECT_EQ(f.state("a"), S::Ready);
  f.engine.on_child_exit(pid, exit_code(0));
  EXPECT_EQ(f.state("a"), S::Exited);  // on-failure after a clean exit

  EngineFixture g;
  g.load({make_spec("b")});
  g.engine.start_all();
  g.empty("b");
  g.fx.advance(kReapGraceMs);
  EXPECT_EQ(g.state("b"), S::Backoff);
  EXPECT_THAT(g.error("b"), HasSubstr("exit status unknown"));
}

TEST(Engine, BackoffDoublesUpToTheCapThenStartLimitFails) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  a.restart.policy = RestartPolicy::Always;
  a.restart.delay = Duration(100);
  a.restart.max_delay = Duration(400);
  a.restart.burst = 4;
  a.restart.interval = Duration(60'000);
  f.load({a});
  f.engine.start_all();
  std::vector<int64_t> delays;
  for (int i = 0; i < 4; ++i) {
    f.exit("a", exit_code(1));
    ASSERT_EQ(f.state("a"), S::Backoff);
    int64_t exited_at = f.fx.now;
    size_t starts = f.fx.calls_with("start ").size();
    while (f.fx.calls_with("start ").size() == starts) f.fx.advance(10);
    delays.push_back(f.fx.now - exited_at);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 400, 400}));
  f.exit("a", exit_code(1));
  EXPECT_EQ(f.state("a"), S::Failed);
  EXPECT_THAT(f.error("a"), HasSubstr("start limit hit: 4 restarts"));
  EXPECT_EQ(f.status("a").restarts, 4);
  EXPECT_GE(f.engine.timeline()[0].failed_ms, 0);

  // An operator start re-arms it: a fresh window and backoff.
  std::string err;
  ASSERT_TRUE(f.engine.start("a", err));
  EXPECT_EQ(f.state("a"), S::Ready);
  f.exit("a", exit_code(1));
  int64_t t = f.fx.now;
  while (f.state("a") == S::Backoff) f.fx.advance(10);
  EXPECT_EQ(f.fx.now - t, 100);
}

// burst = 0: restarts go on (with the capped backoff) however often the service fails.
TEST(Engine, BurstZeroNeverHitsTheStartLimit) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  a.restart.policy = RestartPolicy::Always;
  a.restart.delay = Duration(10);
  a.restart.max_delay = Duration(20);
  a.restart.burst = 0;
  a.restart.interval = Duration(60'000);
  f.load({a});
  f.engine.start_all();
  for (int i = 0; i < 50; ++i) {
    f.exit("a", exit_code(1));
    ASSERT_EQ(f.state("a"), S::Backoff) << "round " << i << ": " << f.error("a");
    f.fx.advance(25);
    ASSERT_EQ(f.state("a"), S::Ready) << "round " << i;
  }
  EXPECT_EQ(f.status("a").restarts, 50);
}

TEST(Engine, StartLimitWindowSlides) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  a.restart.delay = Duration(10);
  a.restart.max_delay = Duration(10);
  a.restart.burst = 2;
  a.restart.interval = Duration(1'000);
  f.load({a});
  f.engine.start_all();
  for (int i = 0; i < 6; ++i) {
    f.exit("a", exit_code(1));
    ASSERT_EQ(f.state("a"), S::Backoff) << "round " << i;
    f.fx.advance(600);  // two restarts never fall in the same 1 s window
    ASSERT_EQ(f.state("a"), S::Ready);
  }
}

TEST(Engine, BackoffResetsAfterBeingReadyLongEnough) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  a.restart.delay = Duration(100);
  a.restart.max_delay = Duration(2'000);
  a.restart.burst = 100;
  f.load({a});
  f.engine.start_all();
  for (int i = 0; i < 3; ++i) {
    f.exit("a", exit_code(1));
    f.fx.advance(5'000);
  }
  // Three quick failures: the next delay would be 800 ms; after a stable run it is 100 again.
  f.fx.advance(stable_after_ms(a.restart));
  f.exit("a", exit_code(1));
  int64_t t = f.fx.now;
  while (f.state("a") == S::Backoff) f.fx.advance(10);
  EXPECT_EQ(f.fx.now - t, 100);
}

TEST(Engine, RestartPolicies) {
  struct Case {
    RestartPolicy policy;
    int status;
    S expected;
  } cases[] = {
      {RestartPolicy::Always, exit_code(0), S::Backoff},
      {RestartPolicy::Always, exit_code(2), S::Backoff},
      {RestartPolicy::OnFailure, exit_code(0), S::Exited},
      {RestartPolicy::OnFailure, exit_code(2), S::Backoff},
      {RestartPolicy::OnFailure, killed_by(SIGSEGV), S::Backoff},
      {RestartPolicy::Never, exit_code(0), S::Exited},
      {RestartPolicy::Never, killed_by(SIGKILL), S::Failed},
  };
  for (const Case& c : cases) {
    EngineFixture f;
    ServiceSpec a = make_spec("a");
    a.restart.policy = c.policy;
    f.load({a});
    f.engine.start_all();
    f.exit("a", c.status);
    EXPECT_EQ(f.state("a"), c.expected) << describe_wait_status(c.status);
  }
}

TEST(Engine, ReadinessTimeoutCountsAsFailure) {
  EngineFixture f;
  ServiceSpec a = make_spec("a", ReadyType::Socket);
  a.ready.timeout = Duration(1'000);
  f.load({a});
  f.engine.start_all();
  f.fx.advance(999);
  EXPECT_EQ(f.state("a"), S::Starting);
  f.fx.advance(1);
  EXPECT_EQ(f.state("a"), S::Stopping);
  EXPECT_EQ(f.fx.calls_with("signal ").back(), "signal a 15");
  EXPECT_TRUE(f.fx.ended.count("a"));  // probes stopped
  f.exit("a", killed_by(SIGTERM));
  EXPECT_EQ(f.state("a"), S::Backoff);
  EXPECT_THAT(f.error("a"), HasSubstr("not ready within 1000 ms"));
}

TEST(Engine, SpawnFailureGoesThroughBackoffToFailed) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  a.restart.burst = 2;
  f.fx.fail_start.insert("a");
  f.load({a});
  f.engine.start_all();
  EXPECT_EQ(f.state("a"), S::Backoff);
  EXPECT_THAT(f.error("a"), HasSubstr("start failed: execve: No such file or directory"));
  f.fx.advance(60'000);
  EXPECT_EQ(f.state("a"), S::Failed);
  EXPECT_THAT(f.error("a"), HasSubstr("start limit hit"));
  EXPECT_EQ(f.fx.calls_with("start ").size(), 3u);
}

TEST(Engine, OomKillIsReported) {
  EngineFixture f;
  f.fx.ooms["a"] = 2;  // from an earlier run
  f.load({make_spec("a")});
  f.engine.start_all();
  f.fx.ooms["a"] = 3;
  f.exit("a", killed_by(SIGKILL));
  EXPECT_TRUE(f.status("a").oom_killed);
  EXPECT_THAT(f.error("a"), HasSubstr("OOM killer"));
  f.fx.advance(1'000);
  f.exit("a", exit_code(1));
  EXPECT_FALSE(f.status("a").oom_killed);
}

TEST(Engine, NotifyMainPidAndStoppingAndStatus) {
  EngineFixture f;
  f.load({make_spec("d", ReadyType::Notify)});
  f.engine.start_all();
  pid_t launcher = f.engine.pid_of("d");
  f.engine.on_main_pid("d", 4242);
  f.engine.on_status_text("d", "loading plugins");
  f.engine.on_ready("d");
  EXPECT_EQ(f.engine.pid_of("d"), 4242);
  EXPECT_EQ(f.status("d").status_text, "loading plugins");
  EXPECT_FALSE(f.engine.on_child_exit(launcher, exit_code(0)));  // not the main any more
  EXPECT_EQ(f.state("d"), S::Ready);
  f.fx.calls.clear();
  f.engine.on_stopping("d");
  EXPECT_EQ(f.state("d"), S::Stopping);
  EXPECT_TRUE(f.fx.calls_with("signal ").empty());  // it stops itself
  f.fx.populated_["d"] = false;
  EXPECT_TRUE(f.engine.on_child_exit(4242, exit_code(0)));
  EXPECT_EQ(f.state("d"), S::Exited);
}

TEST(Engine, OperatorRestartSkipsBackoff) {
  EngineFixture f;
  f.load({make_spec("a")});
  f.engine.start_all();
  std::string err;
  ASSERT_TRUE(f.engine.restart("a", err));
  EXPECT_EQ(f.state("a"), S::Stopping);
  f.exit("a", killed_by(SIGTERM));
  EXPECT_EQ(f.state("a"), S::Ready);
  EXPECT_EQ(f.fx.calls_with("start ").size(), 2u);
  EXPECT_EQ(f.status("a").restarts, 0);
}

TEST(Engine, OneShotThatExitedSatisfiesRequires) {
  EngineFixture f;
  ServiceSpec setup = make_spec("setup", ReadyType::Notify);
  setup.restart.policy = RestartPolicy::Never;
  ServiceSpec app = make_spec("app");
  app.required = {"setup"};
  f.load({setup, app});
  f.engine.start_all();
  f.engine.on_ready("setup");
  f.exit("setup", exit_code(0));
  EXPECT_EQ(f.state("setup"), S::Exited);
  EXPECT_EQ(f.state("app"), S::Ready);
}

ServiceSpec group(const std::string& name, std::vector<std::string> members) {
  ServiceSpec g = make_spec(name);
  g.exec.clear();
  g.members = std::move(members);
  return g;
}

TEST(Engine, GroupStartsMembersInOrderAndReportsOneState) {
  EngineFixture f;
  ServiceSpec api = make_spec("apiserver", ReadyType::Socket);
  ServiceSpec cm = make_spec("controller", ReadyType::Notify);
  ServiceSpec kubelet = make_spec("kubelet");
  ServiceSpec dns = make_spec("dns");
  dns.required = {"kubelite"};
  ServiceSpec ds = make_spec("datastore", ReadyType::Notify);
  ServiceSpec g = group("kubelite", {"apiserver", "controller", "kubelet"});
  g.required = {"datastore"};
  f.load({api, cm, kubelet, g, dns, ds});
  f.engine.start_all();
  EXPECT_EQ(f.fx.calls_with("start "), std::vector<std::string>{"start datastore"});
  EXPECT_EQ(f.state("kubelite"), S::Waiting);
  f.engine.on_ready("datastore");
  EXPECT_EQ(f.fx.calls_with("start ").back(), "start apiserver");
  EXPECT_EQ(f.state("kubelite"), S::Starting);
  f.engine.on_ready("apiserver");
  EXPECT_EQ(f.fx.calls_with("start ").back(), "start controller");
  f.engine.on_ready("controller");
  EXPECT_EQ(f.fx.calls_with("start "),
            (std::vector<std::string>{"start datastore", "start apiserver", "start controller",
                                      "start kubelet", "start dns"}));
  EXPECT_EQ(f.state("kubelite"), S::Ready);
  EXPECT_EQ(f.state("dns"), S::Ready);
  EXPECT_EQ(f.status("kubelet").group, "kubelite");
  EXPECT_TRUE(f.engine.node_ready());

  std::string err;
  EXPECT_FALSE(f.engine.start("kubelet", err));
  EXPECT_THAT(err, HasSubstr("member of group 'kubelite'"));

  // Stops as one, in reverse member order, after its dependents.
  f.fx.calls.clear();
  ASSERT_TRUE(f.engine.stop("kubelite", err));
  EXPECT_EQ(f.fx.calls_with("signal "), std::vector<std::string>{"signal dns 15"});
  f.exit("dns", killed_by(SIGTERM));
  EXPECT_EQ(f.fx.calls_with("signal ").back(), "signal kubelet 15");
  EXPECT_EQ(f.state("kubelite"), S::Stopping);
  f.exit("kubelet", killed_by(SIGTERM));
  EXPECT_EQ(f.fx.calls_with("signal ").back(), "signal controller 15");
  f.exit("controller", killed_by(SIGTERM));
  EXPECT_EQ(f.fx.calls_with("signal ").back(), "signal apiserver 15");
  f.exit("apiserver", killed_by(SIGTERM));
  EXPECT_EQ(f.state("kubelite"), S::Stopped);
  EXPECT_EQ(f.state("datastore"), S::Ready);
}

TEST(Engine, GroupFailsWhenAMemberFails) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  ServiceSpec b = make_spec("b");
  b.restart.policy = RestartPolicy::Never;
  f.load({a, b, group("g", {"a", "b"})});
  f.engine.start_all();
  EXPECT_EQ(f.state("g"), S::Ready);
  f.exit("b", exit_code(7));
  EXPECT_EQ(f.state("g"), S::Failed);
  EXPECT_THAT(f.error("g"), HasSubstr("member 'b'"));
  EXPECT_THAT(f.error("g"), HasSubstr("status 7"));
}

TEST(Engine, GroupWithAnUnknownMemberIsInvalid) {
  EngineFixture f;
  f.load({make_spec("a"), group("g", {"a", "zzz"})});
  f.engine.start_all();
  EXPECT_EQ(f.state("g"), S::Invalid);
  EXPECT_THAT(f.error("g"), HasSubstr("zzz"));
  EXPECT_EQ(f.state("a"), S::Ready);  // not a member of a valid group: runs on its own
}

TEST(Engine, NodeReadyLineExactlyOnceWithTimeline) {
  EngineFixture f;
  ServiceSpec a = make_spec("a", ReadyType::Notify);
  ServiceSpec b = make_spec("b");
  ServiceSpec off = make_spec("off", ReadyType::Notify);
  off.enabled = false;
  f.load({a, b, off}, {invalid("bad", "bad.toml:1:1: error: x")});
  f.fx.advance(5);
  f.engine.start_all();
  EXPECT_TRUE(f.fx.console_lines.empty());
  f.fx.advance(20);
  f.engine.on_ready("a");
  ASSERT_FALSE(f.fx.console_lines.empty());
  EXPECT_EQ(f.fx.console_lines[0], "cairn-init: node ready in 25 ms");
  EXPECT_EQ(f.fx.console_lines.size(), 3u);
  EXPECT_EQ(f.fx.console_lines[1], "cairn-init: timeline b started 5 ms, ready 5 ms (+0 ms)");
  EXPECT_EQ(f.fx.console_lines[2], "cairn-init: timeline a started 5 ms, ready 25 ms (+20 ms)");
  f.exit("a", exit_code(1));
  f.fx.advance(10'000);
  f.engine.on_ready("a");
  EXPECT_EQ(f.fx.console_lines.size(), 3u);
  EXPECT_EQ(f.engine.node_ready_ms(), 25);
}

TEST(Engine, ReloadAddsRemovesAndRestartsOnlyChanged) {
  EngineFixture f;
  ServiceSpec keep = make_spec("keep");
  ServiceSpec change = make_spec("change");
  ServiceSpec gone = make_spec("gone");
  f.load({keep, change, gone});
  f.engine.start_all();
  pid_t keep_pid = f.engine.pid_of("keep");

  ServiceSpec changed = change;
  changed.exec.push_back("--verbose");
  std::vector<UnitDefinition> next;
  next.push_back(def(keep));
  next.push_back(def(changed));
  next.push_back(def(make_spec("fresh")));
  next.push_back(invalid("oops", "oops.toml:2:3: error: bad"));
  EngineReload r = f.engine.reload(std::move(next));
  EXPECT_EQ(r.added, (std::vector<std::string>{"fresh", "oops"}));
  EXPECT_EQ(r.removed, std::vector<std::string>{"gone"});
  EXPECT_EQ(r.changed, std::vector<std::string>{"change"});
  EXPECT_EQ(r.unchanged, std::vector<std::string>{"keep"});
  EXPECT_EQ(r.invalid, std::vector<std::string>{"oops"});
  EXPECT_EQ(f.state("fresh"), S::Ready);
  EXPECT_EQ(f.state("change"), S::Stopping);
  EXPECT_EQ(f.state("gone"), S::Stopping);
  f.exit("change", killed_by(SIGTERM));
  EXPECT_EQ(f.state("change"), S::Ready);
  EXPECT_EQ(f.engine.spec_of("change")->exec.back(), "--verbose");
  f.exit("gone", killed_by(SIGTERM));
  EXPECT_EQ(f.state("gone"), S::Invalid);  // unknown now
  EXPECT_EQ(f.engine.status().size(), 4u);
  EXPECT_EQ(f.engine.pid_of("keep"), keep_pid);
}

TEST(Engine, ReloadRetriesServicesThatFailedOnAMissingDependency) {
  EngineFixture f;
  ServiceSpec app = make_spec("app");
  app.required = {"db"};
  f.load({app}, {invalid("db", "db.toml:1:1: error: x")});
  f.engine.start_all();
  EXPECT_EQ(f.state("app"), S::Failed);
  std::vector<UnitDefinition> next;
  next.push_back(def(app));
  next.push_back(def(make_spec("db")));
  f.engine.reload(std::move(next));
  EXPECT_EQ(f.state("db"), S::Ready);
  EXPECT_EQ(f.state("app"), S::Ready);
}

TEST(Engine, UnknownPidsAreNotServices) {
  EngineFixture f;
  f.load({make_spec("a")});
  f.engine.start_all();
  EXPECT_FALSE(f.engine.on_child_exit(99999, exit_code(0)));
  EXPECT_FALSE(f.engine.on_child_exit(-1, 0));
  EXPECT_EQ(f.state("a"), S::Ready);
}

TEST(Engine, DependencyCycleWaitsInsteadOfCrashing) {
  EngineFixture f;
  ServiceSpec a = make_spec("a");
  a.required = {"b"};
  ServiceSpec b = make_spec("b");
  b.required = {"a"};
  f.load({a, b});
  f.engine.start_all();
  EXPECT_EQ(f.state("a"), S::Waiting);
  EXPECT_EQ(f.state("b"), S::Waiting);
  int done = 0;
  f.engine.shutdown([&] { ++done; });
  EXPECT_EQ(done, 1);
}

TEST(Engine, DescribeWaitStatus) {
  EXPECT_EQ(describe_wait_status(exit_code(3)), "exited with status 3");
  EXPECT_EQ(describe_wait_status(killed_by(SIGKILL)), "killed by signal 9 (SIGKILL)");
}

}  // namespace
}  // namespace cairn::init::testing
