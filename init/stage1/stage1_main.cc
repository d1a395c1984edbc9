// A stand-alone /init running only stage 1 (see CMakeLists.txt for why it exists).
#include <unistd.h>

#include <cstdio>

#include "init/stage1/stage1.h"

int main() {
  if (::getpid() != 1) {
    std::fprintf(stderr, "cairn-stage1: must run as PID 1 (the initramfs /init)\n");
    return 2;
  }
  return cairn::init::run_stage1();
}
