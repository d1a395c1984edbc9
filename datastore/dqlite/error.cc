// Error is shared by the codec and the client, so it lives with the codec library.
#include "datastore/dqlite/client.h"

#include <string_view>

namespace cairn::dqlite {

Error::Error(int64_t code, std::string message)
    : std::runtime_error(std::move(message)), code_(code) {}

bool Error::retryable() const noexcept {
  if (code_ == kSqliteIoerrNotLeader || code_ == kSqliteIoerrLeadershipLost) return true;
  // SQLITE_BUSY and its extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT).
  if (code_ > 0 && (code_ & 0xff) == kSqliteBusy) return true;
  std::string_view m = what();
  return code_ > 0 && (m.find("not leader") != std::string_view::npos ||
                       m.find("leadership lost") != std::string_view::npos);
}

}  // namespace cairn::dqlite
