// libFuzzer target for the dqlite response decoders: the first byte picks the response
// type, the rest is the body. Every input must decode or throw Error(kErrProtocol), never
// crash or read out of bounds.
#include <cstddef>
#include <cstdint>

#include "datastore/dqlite/wire.h"

using namespace cairn::dqlite;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  wire::Body body(data + 1, size - 1);
  try {
    switch (data[0] % 9) {
      case 0:
        wire::decode_failure(body);
        break;
      case 1:
        wire::decode_server(body);
        break;
      case 2:
        wire::decode_welcome(body);
        break;
      case 3:
        wire::decode_servers(body, protocol::kClusterFormatV1);
        break;
      case 4:
        wire::decode_db(body);
        break;
      case 5:
        wire::decode_stmt(body);
        break;
      case 6:
        wire::decode_result(body);
        break;
      case 7: {
        // Rows: possibly several batches, split where the data says.
        Rows rows;
        wire::decode_rows(body, rows);
        break;
      }
      case 8:
        if (size >= 1 + protocol::kHeaderSize) {
          wire::decode_header(
              std::span<const uint8_t, protocol::kHeaderSize>(data + 1, protocol::kHeaderSize));
        }
        break;
    }
  } catch (const Error& e) {
    if (e.code() != kErrProtocol) __builtin_trap();
  }
  return 0;
}
