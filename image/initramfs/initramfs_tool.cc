// cairn-initramfs: build_initramfs from the command line, for the QEMU test rig and for
// debugging an image's boot (cairn-image build calls build_initramfs directly).
//   cairn-initramfs --init FILE --modules-root DIR [--kernel-version V] [--module NAME]...
//                   [--extra SRC:DEST[:MODE]]... [--epoch N] [--gzip|--zstd|--none] --output F
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "image/initramfs/initramfs.h"

int main(int argc, char** argv) {
  cairn::image::InitramfsRequest request;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
        return argv[++i];
      };
      if (arg == "--init") {
        request.init_binary = value();
      } else if (arg == "--modules-root") {
        request.modules_root = value();
      } else if (arg == "--kernel-version") {
        request.kernel_version = value();
      } else if (arg == "--module") {
        request.modules.push_back(value());
      } else if (arg == "--output") {
        request.output = value();
      } else if (arg == "--epoch") {
        request.source_date_epoch = std::stoll(value());
      } else if (arg == "--gzip") {
        request.compression = cairn::image::InitramfsCompression::kGzip;
      } else if (arg == "--zstd") {
        request.compression = cairn::image::InitramfsCompression::kZstd;
      } else if (arg == "--none") {
        request.compression = cairn::image::InitramfsCompression::kNone;
      } else if (arg == "--extra") {
        std::string v = value();
        size_t a = v.find(':');
        if (a == std::string::npos) throw std::runtime_error("--extra wants SRC:DEST[:MODE]");
        size_t b = v.find(':', a + 1);
        cairn::image::InitramfsExtraFile extra;
        extra.source = v.substr(0, a);
        extra.destination = v.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
        if (b != std::string::npos) extra.mode = std::stoul(v.substr(b + 1), nullptr, 8);
        request.extra_files.push_back(extra);
      } else {
        throw std::runtime_error("unknown argument '" + arg + "'");
      }
    }
    auto result = cairn::image::build_initramfs(request);
    std::printf("%s: %llu bytes, kernel %s, %zu modules\n", request.output.c_str(),
                static_cast<unsigned long long>(result.size), result.kernel_version.c_str(),
                result.module_paths.size());
    for (const auto& m : result.module_paths) std::printf("  %s\n", m.c_str());
    for (const auto& m : result.builtin) std::printf("  (built in) %s\n", m.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn-initramfs: error: %s\n", e.what());
    return 1;
  }
}
