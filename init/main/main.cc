// cairn-init: `--check DIR`, stage 1 (PID 1 with /etc/initrd-release), PID 1, or a
// development supervisor when not PID 1. See docs/supervisor.md and docs/pid1.md.
#include <unistd.h>

#include <iostream>

#include "init/config/service_dir.h"
#include "init/main/options.h"
#include "init/main/run.h"
#include "init/stage1/stage1.h"
#include "init/system/final_shutdown.h"

int main(int argc, char** argv) {
  using namespace cairn::init;
  const bool pid1 = getpid() == 1;
  MainOptions options = parse_main_options(argc, argv, /*strict=*/!pid1);
  if (!pid1) {
    if (!options.error.empty()) {
      std::cerr << "cairn-init: " << options.error << "\n" << kMainUsage;
      return 2;
    }
    if (options.help) {
      std::cout << kMainUsage;
      return 0;
    }
    if (options.version) {
      std::cout << "cairn-init " CAIRN_VERSION "\n";
      return 0;
    }
  }
  if (options.check_dir) {
    try {
      return check_service_dir(*options.check_dir, std::cout);
    } catch (...) {
      std::cerr << "cairn-init: out of memory\n";
      return 2;
    }
  }
  if (pid1 && access("/etc/initrd-release", F_OK) == 0) {
    run_stage1();
    // Stage 1 only returns if it could not even follow cairn.emergency: PID 1 must not exit.
    system::idle_forever();
  }
  return run_supervisor(options, pid1);
}
