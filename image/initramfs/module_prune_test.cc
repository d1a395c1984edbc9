#include "image/initramfs/module_prune.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace cairn::image {
namespace {

// Made up in the shape of Debian 6.1's modules.dep, around the three modules a VM recipe's
// omit-modules used to leave unloadable: bnx2fc (needs libfcoe under scsi/fcoe), u132-hcd
// (needs ftdi-elan under usb/misc), vhost_scsi (needs target_core_mod under drivers/target).
constexpr const char* kDep =
    "kernel/drivers/scsi/fcoe/libfcoe.ko: kernel/drivers/scsi/libfc/libfc.ko "
    "kernel/drivers/scsi/scsi_transport_fc.ko\n"
    "kernel/drivers/scsi/fcoe/fcoe.ko: kernel/drivers/scsi/fcoe/libfcoe.ko "
    "kernel/drivers/scsi/libfc/libfc.ko kernel/drivers/scsi/scsi_transport_fc.ko\n"
    "kernel/drivers/scsi/libfc/libfc.ko: kernel/drivers/scsi/scsi_transport_fc.ko\n"
    "kernel/drivers/scsi/scsi_transport_fc.ko:\n"
    "kernel/drivers/scsi/bnx2fc/bnx2fc.ko: kernel/drivers/scsi/fcoe/libfcoe.ko "
    "kernel/drivers/scsi/libfc/libfc.ko kernel/drivers/scsi/scsi_transport_fc.ko "
    "kernel/drivers/net/ethernet/broadcom/cnic.ko\n"
    "kernel/drivers/net/ethernet/broadcom/cnic.ko:\n"
    "kernel/drivers/usb/misc/ftdi-elan.ko:\n"
    "kernel/drivers/usb/host/u132-hcd.ko: kernel/drivers/usb/misc/ftdi-elan.ko\n"
    "kernel/drivers/target/target_core_mod.ko:\n"
    "kernel/drivers/vhost/vhost.ko: kernel/drivers/vhost/vhost_iotlb.ko\n"
    "kernel/drivers/vhost/vhost_iotlb.ko:\n"
    "kernel/drivers/vhost/vhost_net.ko: kernel/drivers/vhost/vhost.ko "
    "kernel/drivers/vhost/vhost_iotlb.ko\n"
    "kernel/drivers/vhost/vhost_scsi.ko: kernel/drivers/target/target_core_mod.ko "
    "kernel/drivers/vhost/vhost.ko kernel/drivers/vhost/vhost_iotlb.ko\n"
    // Not transitive on purpose (a hand-made file): top needs mid, mid needs an omitted one.
    "kernel/lib/top.ko: kernel/lib/mid.ko\n"
    "kernel/lib/mid.ko: kernel/drivers/usb/misc/ftdi-elan.ko\n"
    // A dependency modules.dep does not list at all cannot load either.
    "kernel/lib/orphan.ko.xz: kernel/lib/gone.ko.xz\n"
    "kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko\n"
    "kernel/fs/jbd2/jbd2.ko:\n";

TEST(ModulePrune, DependentsOfOmittedModulesGoToo) {
  auto deps = read_modules_dep(kDep, "modules.dep");
  auto plan = plan_module_prune(
      deps, {"kernel/drivers/scsi/fcoe", "kernel/drivers/usb/misc/", "kernel/drivers/target"});
  EXPECT_EQ(plan.omitted, (std::vector<std::string>{"kernel/drivers/scsi/fcoe/fcoe.ko",
                                                    "kernel/drivers/scsi/fcoe/libfcoe.ko",
                                                    "kernel/drivers/target/target_core_mod.ko",
                                                    "kernel/drivers/usb/misc/ftdi-elan.ko"}));
  std::map<std::string, std::string> want = {
      {"kernel/drivers/scsi/bnx2fc/bnx2fc.ko", "kernel/drivers/scsi/fcoe/libfcoe.ko"},
      {"kernel/drivers/usb/host/u132-hcd.ko", "kernel/drivers/usb/misc/ftdi-elan.ko"},
      {"kernel/drivers/vhost/vhost_scsi.ko", "kernel/drivers/target/target_core_mod.ko"},
      {"kernel/lib/mid.ko", "kernel/drivers/usb/misc/ftdi-elan.ko"},
      {"kernel/lib/top.ko", "kernel/lib/mid.ko"},
      {"kernel/lib/orphan.ko.xz", "kernel/lib/gone.ko.xz"},
  };
  EXPECT_EQ(plan.dependents, want);

  // What is left is closed under modules.dep: every kept module finds all it needs.
  auto gone = plan.all();
  std::set<std::string> removed(gone.begin(), gone.end());
  EXPECT_EQ(removed.size(), plan.omitted.size() + plan.dependents.size());
  for (const auto& [path, needs] : deps) {
    if (removed.count(path)) continue;
    for (const auto& d : needs) EXPECT_FALSE(removed.count(d)) << path << " needs " << d;
  }
  // The shared libraries of the kept ones stay (libfc, vhost for vhost_net).
  for (const char* kept :
       {"kernel/drivers/scsi/libfc/libfc.ko", "kernel/drivers/vhost/vhost.ko",
        "kernel/drivers/vhost/vhost_net.ko", "kernel/drivers/net/ethernet/broadcom/cnic.ko",
        "kernel/fs/ext4/ext4.ko"})
    EXPECT_FALSE(removed.count(kept)) << kept;
}

TEST(ModulePrune, DirectoriesMatchWholeComponents) {
  auto deps = read_modules_dep(kDep, "modules.dep");
  // "kernel/drivers/scsi/fc" is not a prefix directory of kernel/drivers/scsi/fcoe/.
  auto plan = plan_module_prune(deps, {"kernel/drivers/scsi/fc", "", "/"});
  EXPECT_TRUE(plan.omitted.empty());
  EXPECT_EQ(plan.dependents.size(), 1u);  // only the orphan, whatever is omitted
  // A single file may be omitted too.
  plan = plan_module_prune(deps, {"kernel/fs/jbd2/jbd2.ko"});
  EXPECT_EQ(plan.omitted, std::vector<std::string>{"kernel/fs/jbd2/jbd2.ko"});
  EXPECT_EQ(plan.dependents.at("kernel/fs/ext4/ext4.ko"), "kernel/fs/jbd2/jbd2.ko");
}

TEST(ModulePrune, NothingOmittedKeepsEverythingLoadable) {
  auto deps = read_modules_dep("kernel/a.ko: kernel/b.ko\nkernel/b.ko:\n", "modules.dep");
  auto plan = plan_module_prune(deps, {});
  EXPECT_TRUE(plan.all().empty());
}

std::string error_of(const std::string& text) {
  try {
    read_modules_dep(text, "lib/modules/6.1.0-56-amd64/modules.dep");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModulePrune, ModulesDepErrorsNameFileAndLine) {
  const std::string f = "lib/modules/6.1.0-56-amd64/modules.dep:";
  EXPECT_EQ(error_of("kernel/a.ko:\n\nkernel/b.ko kernel/a.ko\n"),
            f + "3: expected 'module.ko: deps...'");
  EXPECT_EQ(error_of("kernel/a.ko: kernel/b.txt\n"), f + "1: not a module path: 'kernel/b.txt'");
  EXPECT_EQ(error_of("/abs/a.ko:\n"), f + "1: not a module path: '/abs/a.ko'");
  EXPECT_EQ(error_of("kernel/a.ko:\nkernel/a.ko: kernel/b.ko\n"),
            f + "2: module 'kernel/a.ko' listed twice (first at line 1)");
}

}  // namespace
}  // namespace cairn::image
