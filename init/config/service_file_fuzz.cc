// libFuzzer target: any bytes as a service file must yield a spec or diagnostics, never a
// crash, hang or sanitizer report; and every diagnostic must carry the file name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "init/config/args_file.h"
#include "init/config/service_dir.h"
#include "init/config/service_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = cairn::init::parse_service(text, "fuzz.toml", "fuzz");
  for (const auto& d : parsed.diagnostics) {
    if (d.file != "fuzz.toml" || d.message.empty()) std::abort();
  }
  if (parsed.valid() && !parsed.spec.is_group() &&
      (parsed.spec.exec.empty() || parsed.spec.exec[0].empty() || parsed.spec.exec[0][0] != '/')) {
    std::abort();  // a valid service always has an absolute program
  }
  // The graph check over the fuzzed service plus the services it references.
  std::vector<cairn::init::ParsedService> set{parsed};
  for (const auto& ref : parsed.refs) {
    set.push_back(cairn::init::parse_service("exec = [\"/x\"]\nafter = [\"fuzz\"]\n",
                                             ref.name + ".toml", ref.name));
  }
  auto loaded = cairn::init::check_services(std::move(set));
  (void)loaded.graph.start_order();
  // The same bytes as an args file: every argument is non-empty, left-trimmed, not a comment.
  for (const auto& arg : cairn::init::parse_args_text(text)) {
    if (arg.empty() || arg[0] == '#' || arg.front() == ' ') std::abort();
  }
  return 0;
}
