// Stage "validate": parse the recipe, check what it points at (overlays, services, pinned
// artifacts), and derive everything seeded: the disk layout and its identifiers.
#include <stdexcept>

#include "common/diagnostic.h"
#include "image/build/pipeline.h"

namespace cairn::image {

void stage_validate(BuildContext& ctx) {
  std::vector<Diagnostic> diags;
  auto recipe = parse_recipe_file(ctx.options.recipe_file, diags);
  if (recipe) validate_recipe_inputs(*recipe, diags);
  if (!diags.empty()) {
    std::string text = to_string(diags);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    throw std::runtime_error("invalid recipe:\n" + text);
  }
  ctx.recipe = std::move(*recipe);
  if (!ctx.options.formats.empty()) ctx.recipe.formats = ctx.options.formats;
  ctx.epoch = ctx.recipe.source_date_epoch;
  ctx.seed = ctx.recipe.effective_seed();
  ctx.layout = compute_layout(ctx.recipe.board == Board::kRpi ? TableType::kMbr : TableType::kGpt,
                              ctx.recipe.arch == Arch::kArm64, ctx.seed, ctx.recipe.boot_size,
                              ctx.recipe.root_size, ctx.recipe.data_size);
  if (ctx.options.bin_dir.empty())
    throw std::runtime_error("no directory with cairn binaries for " +
                             std::string(arch_name(ctx.recipe.arch)) + " (--bin-dir)");
}

}  // namespace cairn::image
