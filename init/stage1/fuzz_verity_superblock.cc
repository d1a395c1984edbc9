// Any 512 bytes give a superblock or an error; a superblock gives a table or an error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "init/stage1/verity.h"

using namespace cairn::init::stage1;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto sb = parse_verity_superblock(bytes, &error);
  if (sb) verity_target(*sb, "254:1", std::string(64, 'a'), 1 << 20, &error);
  return 0;
}
