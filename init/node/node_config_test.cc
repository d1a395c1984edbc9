#include "init/node/node_config.h"

#include <gtest/gtest.h>

namespace cairn::init::node {
namespace {

std::string errors(const ParsedNodeConfig& p) {
  return to_string(p.diagnostics);
}

// What cairn-image writes from a recipe's [node] table.
TEST(NodeConfig, RecipeOutputParses) {
  auto p = parse_node_config(
      "# cairn node configuration: edit after flashing (docs: node.toml)\n"
      "hostname = \"cairn-qemu\"\n\n[network.eth0]\ndhcp = true\n",
      "/boot/node.toml");
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(p.config.hostname, "cairn-qemu");
  EXPECT_TRUE(p.config.sysctls.empty());
}

TEST(NodeConfig, SysctlsQuotedDottedAndTyped) {
  auto p = parse_node_config(
      "[sysctl]\n\"net.ipv4.ip_forward\" = 1\nvm.swappiness = \"10\"\nkernel.sysrq = false\n",
      "node.toml");
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_FALSE(p.config.hostname);
  ASSERT_EQ(p.config.sysctls.size(), 3u);
  EXPECT_EQ(p.config.sysctls[0], (std::pair<std::string, std::string>{"net.ipv4.ip_forward", "1"}));
  EXPECT_EQ(p.config.sysctls[1], (std::pair<std::string, std::string>{"vm.swappiness", "10"}));
  EXPECT_EQ(p.config.sysctls[2], (std::pair<std::string, std::string>{"kernel.sysrq", "0"}));
  EXPECT_EQ(sysctl_path("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
}

TEST(NodeConfig, BadInputNamesPositionAndReason) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"hostname = \"Edge_01\"\n", "node.toml:1:12: error: hostname: contains 'E'"},
      {"hostname = \"-edge\"\n", "node.toml:1:12: error: hostname: has a label starting or ending"},
      {"hostname = \"a..b\"\n", "hostname: has an empty label"},
      {"hostname = \"\"\n", "node.toml:1:12: error: hostname: is empty"},
      {"hostname = 7\n", "node.toml:1:12: error: hostname: expected a string"},
      {"hostnmae = \"x\"\n", "node.toml:1:1: error: unknown key \"hostnmae\""},
      {"network = 1\n", "node.toml:1:11: error: network: expected a table"},
      {"hostname = \"x\"\nhostname = \"y\"\n", "node.toml:2:"},
      {"[sysctl]\n\"net/ipv4\" = 1\n", "sysctl.net/ipv4: not a sysctl name (contains '/')"},
      {"[sysctl]\nswappiness = 1\n", "sysctl.swappiness: not a sysctl name (expected a.b"},
      {"[sysctl]\n\"vm.swappiness\" = [1]\n",
       "node.toml:2:19: error: sysctl.vm.swappiness: expected a string, integer or boolean, got "
       "an array"},
      {"[sysctl]\n\"vm.x\" = \"a\\nb\"\n", "sysctl.vm.x: the value must be one non-empty line"},
  };
  for (const auto& c : cases) {
    auto p = parse_node_config(c.text, "node.toml");
    EXPECT_FALSE(p.valid()) << c.text;
    EXPECT_NE(errors(p).find(c.error), std::string::npos) << c.text << " -> " << errors(p);
    EXPECT_FALSE(p.config.hostname) << c.text;  // nothing of an invalid file is applied
  }
}

TEST(NodeConfig, HostnameRules) {
  EXPECT_EQ(hostname_problem("edge-01.example"), "");
  EXPECT_EQ(hostname_problem(std::string(63, 'a')), "");
  EXPECT_NE(hostname_problem(std::string(64, 'a')), "");  // one label longer than 63
  EXPECT_NE(hostname_problem(std::string(32, 'a') + "." + std::string(32, 'b')), "");  // 65 bytes
  EXPECT_NE(hostname_problem("edge-"), "");
  EXPECT_NE(hostname_problem(".edge"), "");
}

}  // namespace
}  // namespace cairn::init::node
