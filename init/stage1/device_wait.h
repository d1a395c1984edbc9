// Waiting for the named partitions to appear (module loading and disk probing are
// asynchronous). The scan and the clock are passed in, so the retry/timeout logic is
// unit-tested without devices.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "init/stage1/block_devices.h"
#include "init/stage1/boot_plan.h"

namespace cairn::init::stage1 {

struct WaitRequest {
  std::string role;  // "root", "data", "boot": for messages
  DeviceSpec spec;
  bool required = true;  // a missing optional device is a warning, not a failure
};

struct WaitResult {
  std::vector<std::optional<BlockDevice>> found;  // one per request, in order
  std::vector<std::string> errors;                // required ones missing or ambiguous
  std::vector<std::string> warnings;              // optional ones missing
  int scans = 0;
};

struct WaitSeam {
  std::function<std::vector<BlockDevice>()> scan;
  std::function<long long()> now_ms;
  std::function<void(int ms)> sleep_ms;
  // Called once on timeout when a required device is missing: why no disk may have shown up
  // (storage_hint.h); appended to the error when not empty. Optional.
  std::function<std::string()> explain_missing = nullptr;
};

// Scans until every request is found or `timeout_ms` passes (every 50 ms). A spec that
// matches two devices is an error at once (booting the wrong root must never happen
// silently). On timeout the errors name what was missing, which devices were seen and what
// `explain_missing` says.
WaitResult wait_for_devices(const std::vector<WaitRequest>& requests, long long timeout_ms,
                            const WaitSeam& seam);

}  // namespace cairn::init::stage1
