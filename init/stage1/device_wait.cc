#include "init/stage1/device_wait.h"

namespace cairn::init::stage1 {
namespace {

std::string describe(const std::vector<BlockDevice>& devices) {
  std::string out;
  for (const auto& d : devices) {
    if (!out.empty()) out += ", ";
    out += d.name;
    if (!d.partname.empty()) out += " (PARTLABEL=" + d.partname + ")";
    if (!d.partuuid.empty()) out += " (PARTUUID=" + d.partuuid + ")";
  }
  return out.empty() ? "none" : out;
}

}  // namespace

WaitResult wait_for_devices(const std::vector<WaitRequest>& requests, long long timeout_ms,
                            const WaitSeam& seam) {
  WaitResult r;
  r.found.resize(requests.size());
  const long long deadline = seam.now_ms() + timeout_ms;
  std::vector<BlockDevice> devices;
  while (true) {
    devices = seam.scan();
    ++r.scans;
    bool all = true;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (r.found[i]) continue;
      auto matches = match_devices(requests[i].spec, devices);
      if (matches.size() > 1) {
        r.errors.push_back(requests[i].role + " device " + requests[i].spec.str() +
                           " is ambiguous: " + matches[0]->name + " and " + matches[1]->name +
                           " both match");
        return r;
      }
      if (matches.size() == 1) {
        r.found[i] = *matches[0];
      } else {
        all = false;
      }
    }
    if (all || seam.now_ms() >= deadline) break;
    seam.sleep_ms(50);
  }
  std::string explanation;
  bool explained = false;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (r.found[i]) continue;
    std::string msg = requests[i].role + " device " + requests[i].spec.str() + " not found after " +
                      std::to_string(timeout_ms / 1000) + " s; block devices: " + describe(devices);
    if (requests[i].required && seam.explain_missing) {
      if (!explained) explanation = seam.explain_missing();
      explained = true;
      if (!explanation.empty()) msg += "; " + explanation;
    }
    (requests[i].required ? r.errors : r.warnings).push_back(msg);
  }
  return r;
}

}  // namespace cairn::init::stage1
