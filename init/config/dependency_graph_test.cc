#include "init/config/dependency_graph.h"

#include <gtest/gtest.h>

namespace cairn::init {
namespace {

using Names = std::vector<std::string>;

ServiceSpec svc(std::string name, Names required = {}, Names after = {}, Names members = {}) {
  ServiceSpec s;
  s.name = std::move(name);
  s.required = std::move(required);
  s.after = std::move(after);
  s.members = std::move(members);
  return s;
}

TEST(DependencyGraph, StartOrderIsTopologicalAndDeterministic) {
  DependencyGraph g({svc("web", {"db"}), svc("db", {"storage"}), svc("storage"),
                     svc("metrics", {}, {"web"}), svc("alpha")});
  EXPECT_EQ(g.start_order(), (Names{"alpha", "storage", "db", "web", "metrics"}));
  EXPECT_EQ(g.stop_order(), (Names{"metrics", "web", "db", "storage", "alpha"}));
}

TEST(DependencyGraph, UnknownNamesAreIgnored) {
  DependencyGraph g({svc("a", {"ghost"}, {"phantom"})});
  EXPECT_EQ(g.start_order(), Names{"a"});
  EXPECT_FALSE(g.find_cycle());
}

TEST(DependencyGraph, GroupMembersStartInOrderBeforeTheGroup) {
  DependencyGraph g({svc("kubelite", {"datastore"}, {}, {"apiserver", "scheduler", "kubelet"}),
                     svc("apiserver"), svc("scheduler"), svc("kubelet"), svc("datastore"),
                     svc("app", {"kubelite"})});
  EXPECT_EQ(g.start_order(),
            (Names{"datastore", "apiserver", "scheduler", "kubelet", "kubelite", "app"}));
  EXPECT_EQ(g.group_of("scheduler"), "kubelite");
  EXPECT_EQ(g.group_of("app"), "");
  EXPECT_EQ(g.dependencies("kubelite"), (Names{"datastore", "apiserver", "scheduler", "kubelet"}));
  EXPECT_EQ(g.dependents("scheduler"), (Names{"app", "kubelite"}));
  EXPECT_EQ(g.dependents("datastore"), (Names{"app", "kubelite"}));
}

TEST(DependencyGraph, DependentsFollowRequiresTransitivelyNotAfter) {
  DependencyGraph g({svc("c", {"b"}), svc("b", {"a"}), svc("a"), svc("d", {}, {"a"})});
  EXPECT_EQ(g.dependents("a"), (Names{"c", "b"}));
  EXPECT_EQ(g.dependents("c"), Names{});
  EXPECT_EQ(g.dependencies("c"), (Names{"a", "b"}));
  EXPECT_EQ(g.dependencies("d"), Names{});
  EXPECT_EQ(g.dependents("unknown"), Names{});
}

TEST(DependencyGraph, FindsCycles) {
  DependencyGraph two({svc("a", {"b"}), svc("b", {}, {"a"})});
  auto cycle = two.find_cycle();
  ASSERT_TRUE(cycle);
  EXPECT_EQ(format_cycle(*cycle), "a -> b -> a");

  DependencyGraph three({svc("x"), svc("a", {"b"}), svc("b", {"c"}), svc("c", {"a"})});
  cycle = three.find_cycle();
  ASSERT_TRUE(cycle);
  EXPECT_EQ(format_cycle(*cycle), "a -> b -> c -> a");
  // Services on a cycle are still listed by start_order (after the rest).
  EXPECT_EQ(three.start_order().size(), 4u);
  EXPECT_EQ(three.start_order().front(), "x");

  DependencyGraph none({svc("a", {"b"}), svc("b"), svc("c", {"a", "b"})});
  EXPECT_FALSE(none.find_cycle());
}

TEST(DependencyGraph, MemberRequiringItsGroupIsACycle) {
  DependencyGraph g({svc("g", {}, {}, {"m"}), svc("m", {"g"})});
  auto cycle = g.find_cycle();
  ASSERT_TRUE(cycle);
  EXPECT_EQ(cycle->front(), cycle->back());
  EXPECT_EQ(cycle->size(), 3u);
}

TEST(DependencyGraph, LargeChainIsFast) {
  std::vector<ServiceSpec> specs;
  for (int i = 0; i < 500; ++i) {
    specs.push_back(
        svc("s" + std::to_string(1000 + i), i ? Names{"s" + std::to_string(999 + i)} : Names{}));
  }
  DependencyGraph g(specs);
  auto order = g.start_order();
  ASSERT_EQ(order.size(), 500u);
  EXPECT_EQ(order.front(), "s1000");
  EXPECT_EQ(order.back(), "s1499");
  EXPECT_FALSE(g.find_cycle());
}

}  // namespace
}  // namespace cairn::init
