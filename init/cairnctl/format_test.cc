#include "init/cairnctl/format.h"

#include <gtest/gtest.h>

namespace cairn::init::cairnctl {
namespace {

ServiceStatus service(std::string name, ServiceState state, pid_t pid = 0,
                      std::string description = "") {
  ServiceStatus s;
  s.name = std::move(name);
  s.state = state;
  s.pid = pid;
  s.description = std::move(description);
  return s;
}

TEST(CairnctlFormat, StatusTable) {
  auto datastore = service("datastore", ServiceState::Ready, 812, "dqlite datastore");
  datastore.memory_current = 50 << 20;
  datastore.restarts = 1;
  auto broken = service("broken", ServiceState::Invalid);
  broken.error = "broken.toml:3:9: error: stop.signal: unknown signal \"SIGFOO\"\nmore";
  auto group = service("kubelite", ServiceState::Starting, 0, "Kubernetes");
  group.members = {"kube-apiserver", "kubelet"};
  auto api = service("kube-apiserver", ServiceState::Ready, 900, "API server");
  auto kubelet = service("kubelet", ServiceState::Backoff, 0, "node agent");
  kubelet.oom_killed = true;
  kubelet.error = "killed by signal 9";
  datastore.status_text = "serving 3 clients\nmore";
  datastore.since_ms = 2'500;
  group.since_ms = 61'000;
  api.group = "kubelite";
  api.since_ms = 3'000;
  kubelet.group = "kubelite";
  broken.since_ms = 12;
  std::string table = format_status_table({datastore, kubelet, group, broken, api});
  EXPECT_EQ(table,
            "NAME              STATE     SINCE    PID  RESTARTS  MEMORY  DESCRIPTION/STATUS/ERROR\n"
            "broken            invalid   +12ms    -    0         -       broken.toml:3:9: error: "
            "stop.signal: unknown signal \"SIGFOO\" ...\n"
            "datastore         ready     +2.500s  812  1         50M     dqlite datastore "
            "\"serving 3 clients ...\"\n"
            "kubelite          starting  +1m01s   -    0         -       Kubernetes\n"
            "  kube-apiserver  ready     +3.000s  900  0         -       API server\n"
            "  kubelet         backoff   +0ms     -    0         -       [OOM-killed] node agent "
            "(last error: killed by signal 9)\n");
  // A member whose group is not in the list says which group it belongs to.
  EXPECT_EQ(format_status_table({api}),
            "NAME            STATE  SINCE    PID  RESTARTS  MEMORY  DESCRIPTION/STATUS/ERROR\n"
            "kube-apiserver  ready  +3.000s  900  0         -       [member of kubelite] API "
            "server\n");
}

TEST(CairnctlFormat, StatusTableEmpty) {
  EXPECT_EQ(format_status_table({}),
            "NAME  STATE  SINCE  PID  RESTARTS  MEMORY  DESCRIPTION/STATUS/ERROR\n");
}

TEST(CairnctlFormat, StatusJson) {
  auto s = service("a", ServiceState::Failed, 0, "desc \"q\"");
  s.error = "line\nbreak";
  s.members = {"m1"};
  s.since_ms = 1500;
  s.wanted = true;
  auto m = service("m1", ServiceState::Ready, 42);
  m.group = "a";
  m.status_text = "Serving \"x\"";
  EXPECT_EQ(
      format_status_json({s, m}),
      "[\n  {\"name\": \"a\", \"description\": \"desc \\\"q\\\"\", \"state\": \"failed\", "
      "\"pid\": 0, \"restarts\": 0, \"last_exit_status\": 0, \"oom_killed\": false, "
      "\"memory_current\": 0, \"error\": \"line\\nbreak\", \"members\": [\"m1\"], "
      "\"group\": null, \"status_text\": \"\", \"since_ms\": 1500, \"wanted\": true},\n"
      "  {\"name\": \"m1\", \"description\": \"\", \"state\": \"ready\", \"pid\": 42, "
      "\"restarts\": 0, \"last_exit_status\": 0, \"oom_killed\": false, \"memory_current\": 0, "
      "\"error\": \"\", \"members\": [], \"group\": \"a\", \"status_text\": "
      "\"Serving \\\"x\\\"\", \"since_ms\": 0, \"wanted\": false}\n]\n");
  EXPECT_EQ(format_status_json({}), "[]\n");
}

TEST(CairnctlFormat, JsonStrings) {
  EXPECT_EQ(json_string("a\tb\x01"), "\"a\\tb\\u0001\"");
  EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_string("bad\xff\xc3"), "\"bad\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(json_string("\xed\xa0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

TEST(CairnctlFormat, TimelineSlowestFirst) {
  std::vector<TimelineEntry> t = {
      {"fast", 10, 60, -1, -1},     {"slow", 12, 2012, -1, -1},      {"failing", 20, -1, 5020, -1},
      {"disabled", -1, -1, -1, -1}, {"stopped", 30, 130, -1, 90000},
  };
  EXPECT_EQ(format_timeline(t),
            "READY-IN  NAME      STARTED  READY    NOTE\n"
            "2.000s    slow      +12ms    +2.012s\n"
            "100ms     stopped   +30ms    +130ms   stopped at +1m30s\n"
            "50ms      fast      +10ms    +60ms\n"
            "-         failing   +20ms    -        failed at +5.020s\n"
            "-         disabled  -        -        never started\n");
  EXPECT_EQ(format_timeline_json({{"a", 1, 2, -1, -1}}),
            "[\n  {\"name\": \"a\", \"started_ms\": 1, \"ready_ms\": 2, \"failed_ms\": -1, "
            "\"stopped_ms\": -1}\n]\n");
}

TEST(CairnctlFormat, Reload) {
  ReloadResult r;
  r.added = {"new"};
  r.changed = {"a", "b"};
  r.unchanged = {"x", "y", "z"};
  EXPECT_EQ(format_reload(r),
            "reloaded: 1 added (new), 2 changed (a, b), 0 removed, 3 unchanged, 0 invalid\n");
}

}  // namespace
}  // namespace cairn::init::cairnctl
