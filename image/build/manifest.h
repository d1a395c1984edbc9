// manifest.json: what an image is made of, for audits and update tooling: the package list
// with versions (the SBOM), the sha256 of every output file, the verity root hash and the
// partition table. Key order is fixed, so the manifest is reproducible too.
#pragma once

#include <string>
#include <string_view>

#include "image/build/context.h"

namespace cairn::image {

// JSON string escaping (quotes included).
std::string json_string(const std::string& s);

// Its file name in the output directory.
inline constexpr char kManifestFile[] = "manifest.json";

// The manifest for a finished build (ctx.outputs filled in).
std::string manifest_json(const BuildContext& ctx);

// Whether HEAD, the start of a file, is a manifest that manifest_json wrote (any format
// version): how a build recognises an earlier output it may replace.
bool is_manifest_head(std::string_view head);

}  // namespace cairn::image
