// Any disk head gives a table or an error, never a crash or an out-of-bounds read; a table
// that parses can be planned for growth without a crash either.
#include <cstddef>
#include <cstdint>
#include <string>

#include "init/stage1/partition_grow.h"
#include "init/stage1/partition_table.h"

using namespace cairn::init::stage1;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string disk(reinterpret_cast<const char*>(data), size);
  ReadAt read = [&](uint64_t offset, size_t n) -> std::optional<std::string> {
    if (offset > disk.size() || disk.size() - offset < n) return std::nullopt;
    return disk.substr(offset, n);
  };
  std::string error;
  auto table = read_partition_table(read, 512, &error);
  if (table) {
    for (const auto& p : table->partitions) {
      plan_grow(*table, p.number, disk.size() / 512 + 100000, &error);
    }
  }
  return 0;
}
