#include "image/build/manifest.h"

#include <cstdio>

namespace cairn::image {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

namespace {

std::string str_array(const std::vector<std::string>& v, const std::string& indent) {
  if (v.empty()) return "[]";
  std::string out = "[\n";
  for (size_t i = 0; i < v.size(); ++i)
    out += indent + "  " + json_string(v[i]) + (i + 1 < v.size() ? ",\n" : "\n");
  return out + indent + "]";
}

}  // namespace

// The "format" line, the manifest's first key; the version follows the prefix.
constexpr std::string_view kFormatLinePrefix = "  \"format\": \"cairn-image-manifest/";

std::string manifest_json(const BuildContext& ctx) {
  const Recipe& r = ctx.recipe;
  auto q = json_string;
  auto n = [](uint64_t v) { return std::to_string(v); };
  std::string j = "{\n";
  j += std::string(kFormatLinePrefix) + "1\",\n";
  j += "  \"image\": {\n";
  j += "    \"name\": " + q(r.name) + ",\n";
  j += "    \"version\": " + q(r.version) + ",\n";
  j += "    \"arch\": " + q(arch_name(r.arch)) + ",\n";
  j += "    \"board\": " + q(board_name(r.board)) + ",\n";
  j += "    \"seed\": " + q(ctx.seed) + ",\n";
  j += "    \"source_date_epoch\": " + std::to_string(ctx.epoch) + ",\n";
  j += "    \"suite\": " + q(r.suite) + ",\n";
  j += "    \"kernel\": " + q(ctx.kernel_version) + "\n";
  j += "  },\n";
  j += "  \"files\": [";
  for (size_t i = 0; i < ctx.outputs.size(); ++i) {
    const auto& f = ctx.outputs[i];
    j += std::string(i ? "," : "") + "\n    {\"name\": " + q(f.name) + ", \"size\": " + n(f.size) +
         ", \"sha256\": " + q(f.sha256) + "}";
  }
  j += ctx.outputs.empty() ? "],\n" : "\n  ],\n";
  j += "  \"verity\": {\n";
  j += "    \"root_hash\": " + q(ctx.verity_root_hash) + ",\n";
  j += "    \"hash_offset\": " + n(ctx.verity_hash_offset) + ",\n";
  j += "    \"data_block_size\": 4096,\n    \"hash_block_size\": 4096,\n";
  j += "    \"hash_algorithm\": \"sha256\",\n";
  j += "    \"salt\": " + q(ctx.verity_salt) + ",\n";
  j += "    \"uuid\": " + q(ctx.verity_uuid) + ",\n";
  j += "    \"erofs_size\": " + n(ctx.erofs_size) + ",\n";
  j += "    \"erofs_uuid\": " + q(ctx.erofs_uuid) + "\n";
  j += "  },\n";
  j += "  \"partition_table\": {\n";
  j += "    \"type\": " + q(ctx.layout.table == TableType::kGpt ? "gpt" : "dos") + ",\n";
  j += "    \"disk_id\": " + q(ctx.layout.disk_id) + ",\n";
  j += "    \"disk_size\": " + n(ctx.layout.disk_size) + ",\n";
  j += "    \"partitions\": [";
  for (size_t i = 0; i < ctx.layout.partitions.size(); ++i) {
    const auto& p = ctx.layout.partitions[i];
    j += std::string(i ? "," : "") + "\n      {\"number\": " + std::to_string(p.number) +
         ", \"label\": " + q(p.label) + ", \"offset\": " + n(p.offset) +
         ", \"size\": " + n(p.size) + ", \"type\": " + q(p.type) +
         ", \"partuuid\": " + q(p.partuuid) + "}";
  }
  j += ctx.layout.partitions.empty() ? "]\n" : "\n    ]\n";
  j += "  },\n";
  j += "  \"filesystems\": {\"boot_volume_id\": " + q(ctx.boot_volume_id) +
       ", \"data_uuid\": " + q(ctx.data_uuid) + "},\n";
  j += "  \"cmdline\": {\"a\": " + q(ctx.cmdline_a) + ", \"b\": " + q(ctx.cmdline_b) + "},\n";
  j += "  \"binaries\": " + str_array(ctx.installed_binaries, "  ") + ",\n";
  j += "  \"services\": " + str_array(ctx.installed_services, "  ") + ",\n";
  j += "  \"initramfs_modules\": " + str_array(ctx.initramfs_modules, "  ") + ",\n";
  // Modules left out because they need an omitted one (a module in the image must load).
  j += "  \"omitted_dependent_modules\": [";
  for (size_t i = 0; i < ctx.omitted_dependents.size(); ++i) {
    const auto& [path, needs] = ctx.omitted_dependents[i];
    j += std::string(i ? "," : "") + "\n    {\"module\": " + q(path) + ", \"needs\": " + q(needs) +
         "}";
  }
  j += ctx.omitted_dependents.empty() ? "],\n" : "\n  ],\n";
  j += "  \"artifacts\": [";
  for (size_t i = 0; i < r.artifacts.size(); ++i) {
    const auto& a = r.artifacts[i];
    j += std::string(i ? "," : "") + "\n    {\"name\": " + q(a.name) +
         ", \"destination\": " + q(a.destination) + ", \"sha256\": " + q(a.sha256) + "}";
  }
  j += r.artifacts.empty() ? "],\n" : "\n  ],\n";
  j += "  \"packages\": [";
  for (size_t i = 0; i < ctx.packages.size(); ++i) {
    const auto& p = ctx.packages[i];
    j += std::string(i ? "," : "") + "\n    {\"name\": " + q(p.name) +
         ", \"version\": " + q(p.version) + ", \"architecture\": " + q(p.architecture) + "}";
  }
  j += ctx.packages.empty() ? "]\n" : "\n  ]\n";
  j += "}\n";
  return j;
}

bool is_manifest_head(std::string_view head) {
  return head.substr(0, 2) == "{\n" &&
         head.substr(2, kFormatLinePrefix.size()) == kFormatLinePrefix;
}

}  // namespace cairn::image
