// libFuzzer: node.toml comes from a FAT partition anyone can edit; no input may crash the
// parser, and an invalid file must come with at least one diagnostic.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "init/node/node_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = cairn::init::node::parse_node_config(text, "node.toml");
  if (!parsed.valid() && parsed.config.hostname) __builtin_trap();
  if (parsed.config.hostname &&
      !cairn::init::node::hostname_problem(*parsed.config.hostname).empty()) {
    __builtin_trap();
  }
  return 0;
}
