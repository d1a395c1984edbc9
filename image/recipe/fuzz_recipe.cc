// libFuzzer target: any bytes as a recipe must give a Recipe or diagnostics, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "image/recipe/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<cairn::Diagnostic> diags;
  auto recipe = cairn::image::parse_recipe_text(
      std::string_view(reinterpret_cast<const char*>(data), size), "/fuzz/recipe.toml", diags);
  if (!recipe && diags.empty()) __builtin_trap();
  return 0;
}
