#include "image/build/archive_index.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "image/util/process.h"

namespace cairn::image {
namespace fs = std::filesystem;

std::vector<AptSource> apt_sources(const Recipe& recipe) {
  std::vector<AptSource> out{{recipe.mirror, recipe.suite}};
  for (const auto& s : recipe.extra_sources) {
    const auto space = s.find(' ');  // the recipe parser checked "URL SUITE"
    out.push_back({s.substr(0, space), s.substr(space + 1)});
  }
  return out;
}

std::string packages_index_lines(const std::string& inrelease,
                                 const std::vector<std::string>& components,
                                 const std::string& debian_arch) {
  std::istringstream in(inrelease);
  std::string line;
  bool in_sha256 = false;
  std::vector<std::string> lines;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] != ' ') {
      in_sha256 = line == "SHA256:";
      continue;
    }
    if (!in_sha256) continue;
    std::istringstream fields(line);
    std::string hash, size, path;
    if (!(fields >> hash >> size >> path)) continue;
    for (const auto& c : components) {
      if (path.rfind(c + "/binary-" + debian_arch + "/Packages", 0) == 0) {
        lines.push_back(hash + " " + size + " " + path);
        break;
      }
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string fetch_archive_index_key(const Recipe& recipe, const fs::path& scratch) {
  fs::create_directories(scratch);
  std::string key;
  int n = 0;
  for (const auto& src : apt_sources(recipe)) {
    std::string url = src.uri;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/dists/" + src.suite + "/InRelease";
    fs::path file = scratch / ("InRelease-" + std::to_string(n++));
    try {
      run({"/usr/lib/apt/apt-helper", "-o", "Acquire::http::Timeout=20", "-o", "Acquire::Retries=1",
           "download-file", url, file.string()});
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot fetch " + url + ": " + e.what());
    }
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string lines = packages_index_lines(text, recipe.components, debian_arch(recipe.arch));
    if (lines.empty())
      throw std::runtime_error(url + " lists no binary-" + debian_arch(recipe.arch) +
                               "/Packages index for the recipe's components");
    key += src.uri + " " + src.suite + "\n" + lines;
  }
  return key;
}

}  // namespace cairn::image
