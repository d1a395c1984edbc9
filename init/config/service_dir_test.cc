#include "init/config/service_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cairn::init {
namespace {

using Names = std::vector<std::string>;

ParsedService parsed(const std::string& name, const std::string& text) {
  return parse_service(text, name + ".toml", name);
}

std::string diags(const ServiceSet& set) {
  return to_string(set.all_diagnostics());
}

TEST(ServiceDir, UnknownReferencesPointAtTheEntry) {
  auto set = check_services({parsed("a", "exec = [\"/x\"]\nrequires = [\"b\", \"ghost\"]\n"),
                             parsed("b", "exec = [\"/x\"]\nafter = [\"phantom\"]\n"),
                             parsed("c", "exec = [\"/x\"]\n")});
  EXPECT_FALSE(set.find("a")->valid());
  EXPECT_FALSE(set.find("b")->valid());
  EXPECT_TRUE(set.find("c")->valid());
  EXPECT_EQ(set.invalid_count(), 2u);
  EXPECT_NE(diags(set).find("a.toml:2:18: error: requires: no service named \"ghost\""),
            std::string::npos)
      << diags(set);
  EXPECT_NE(diags(set).find("b.toml:2:10: error: after: no service named \"phantom\""),
            std::string::npos)
      << diags(set);
  EXPECT_EQ(set.graph.start_order(), Names{"c"});
}

TEST(ServiceDir, CycleIsReportedAsAPathAndOthersLoad) {
  auto set = check_services({parsed("a", "exec = [\"/x\"]\nrequires = [\"b\"]\n"),
                             parsed("b", "exec = [\"/x\"]\nafter = [\"a\"]\n"),
                             parsed("c", "exec = [\"/x\"]\nafter = [\"a\"]\n"),
                             parsed("d", "exec = [\"/x\"]\n")});
  EXPECT_FALSE(set.find("a")->valid());
  EXPECT_FALSE(set.find("b")->valid());
  EXPECT_TRUE(set.find("c")->valid()) << diags(set);
  EXPECT_TRUE(set.find("d")->valid());
  EXPECT_EQ(set.find("a")->error(), "a.toml:2:13: error: dependency cycle: a -> b -> a");
  EXPECT_EQ(set.find("b")->error(), "b.toml:2:10: error: dependency cycle: a -> b -> a");
  EXPECT_EQ(set.graph.start_order(), (Names{"c", "d"}));
}

TEST(ServiceDir, RequiringAnInvalidServiceIsInvalidAfterIsNot) {
  auto set = check_services({parsed("broken", "exec = [\"relative\"]\n"),
                             parsed("needs", "exec = [\"/x\"]\nrequires = [\"broken\"]\n"),
                             parsed("needs-needs", "exec = [\"/x\"]\nrequires = [\"needs\"]\n"),
                             parsed("orders", "exec = [\"/x\"]\nafter = [\"broken\"]\n")});
  EXPECT_FALSE(set.find("broken")->valid());
  EXPECT_FALSE(set.find("needs")->valid());
  EXPECT_FALSE(set.find("needs-needs")->valid());
  EXPECT_TRUE(set.find("orders")->valid());
  EXPECT_EQ(set.find("needs")->error(),
            "needs.toml:2:13: error: requires: \"broken\" is invalid, so this service cannot "
            "start either");
}

TEST(ServiceDir, MemberOfTwoGroups) {
  auto set = check_services({parsed("g1", "members = [\"m\"]\n"),
                             parsed("g2", "members = [\"n\", \"m\"]\n"),
                             parsed("m", "exec = [\"/x\"]\n"), parsed("n", "exec = [\"/x\"]\n")});
  EXPECT_TRUE(set.find("g1")->valid());
  EXPECT_FALSE(set.find("g2")->valid());
  EXPECT_EQ(set.find("g2")->error(),
            "g2.toml:1:17: error: members: \"m\" is already a member of group \"g1\"; a service "
            "belongs to at most one group");
}

TEST(ServiceDir, GroupWithInvalidMemberIsInvalid) {
  auto set = check_services({parsed("g", "members = [\"m\"]\n"), parsed("m", "exec = 1\n")});
  EXPECT_FALSE(set.find("g")->valid());
  EXPECT_NE(set.find("g")->error().find("members: \"m\" is invalid"), std::string::npos);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cairn-services-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
  }

 private:
  std::string path_;
};

TEST(ServiceDir, LoadsOnlyTomlFiles) {
  TempDir dir;
  dir.write("b.toml", "exec = [\"/bin/b\"]\nrequires = [\"a\"]\n");
  dir.write("a.toml", "exec = [\"/bin/a\"]\n");
  dir.write("README", "not a service");
  dir.write(".hidden.toml", "garbage");
  dir.write("a.toml.bak", "garbage");
  mkdir((dir.path() + "/sub.toml").c_str(), 0755);
  auto set = load_service_dir(dir.path());
  ASSERT_EQ(set.services.size(), 2u) << diags(set);
  EXPECT_EQ(set.services[0].spec.name, "a");
  EXPECT_EQ(set.services[0].spec.file, dir.path() + "/a.toml");
  EXPECT_EQ(set.invalid_count(), 0u);
  EXPECT_EQ(set.graph.start_order(), (Names{"a", "b"}));
  EXPECT_EQ(set.valid_specs().size(), 2u);
}

TEST(ServiceDir, CheckPrintsDiagnosticsAndSummary) {
  TempDir dir;
  dir.write("good.toml", "exec = [\"/bin/good\"]\n");
  dir.write("bad.toml", "exec = [\"/bin/bad\"]\n[restart]\npolicy = \"maybe\"\n");
  std::ostringstream out;
  EXPECT_EQ(check_service_dir(dir.path(), out), 1);
  EXPECT_EQ(out.str(), dir.path() +
                           "/bad.toml:3:10: error: restart.policy: unknown policy "
                           "\"maybe\"; expected always, on-failure or never\n" +
                           dir.path() + ": 2 services, 1 valid, 1 invalid\n");

  TempDir clean;
  clean.write("good.toml", "exec = [\"/bin/good\"]\n");
  std::ostringstream ok;
  EXPECT_EQ(check_service_dir(clean.path(), ok), 0);
  EXPECT_EQ(ok.str(), clean.path() + ": 1 service, 1 valid, 0 invalid\n");
}

TEST(ServiceDir, MissingDirectoryIsAnError) {
  std::ostringstream out;
  EXPECT_EQ(check_service_dir("/nonexistent/services", out), 1);
  EXPECT_NE(out.str().find("/nonexistent/services: error: cannot open service directory"),
            std::string::npos);
}

TEST(ServiceDir, ShippedExamplesAreValid) {
  std::ostringstream out;
  EXPECT_EQ(check_service_dir(CAIRN_SOURCE_DIR "/services", out), 0) << out.str();
}

}  // namespace
}  // namespace cairn::init
