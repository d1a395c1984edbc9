// manifest.json: what an image is made of, for audits and update tooling: the package list
// with versions (the SBOM), the sha256 of every output file, the verity root hash and the
// partition table. Key order is fixed, so the manifest is reproducible too.
#pragma once

#include <string>

#include "image/build/context.h"

namespace cairn::image {

// JSON string escaping (quotes included).
std::string json_string(const std::string& s);

// The manifest for a finished build (ctx.outputs filled in).
std::string manifest_json(const BuildContext& ctx);

}  // namespace cairn::image
