// libFuzzer target for the control protocol decoders (what PID 1 reads from a client, and
// what cairnctl reads from PID 1): any bytes must decode or fail cleanly, and whatever
// decodes must re-encode to something that decodes to the same thing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "init/control/frame.h"
#include "init/control/message.h"
#include "init/control/protocol.h"

using namespace cairn::init::control;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  Request request;
  if (decode_request(input, request).empty()) {
    Request again;
    if (!decode_request(encode_request(request), again).empty() || !(again == request)) {
      std::abort();
    }
  }
  Response response;
  if (decode_response(input, response).empty()) {
    Response again;
    if (!decode_response(encode_response(response), again).empty()) std::abort();
    if (again.type != response.type || again.services.size() != response.services.size() ||
        again.timeline.size() != response.timeline.size() || again.log != response.log) {
      std::abort();
    }
  }
  Message message;
  if (decode_message(input, message).empty()) {
    Message again;
    if (!decode_message(encode_message(message), again).empty()) std::abort();
  }

  // The same bytes as a stream of frames, split at an input-chosen point.
  FrameDecoder decoder(4096);
  size_t split = size ? data[0] % (size + 1) : 0;
  decoder.feed(input.substr(0, split));
  std::string payload, error;
  while (decoder.next(payload, error) == FrameDecoder::Status::Frame) {
  }
  decoder.feed(input.substr(split));
  while (decoder.next(payload, error) == FrameDecoder::Status::Frame) {
    if (payload.empty() || payload.size() > 4096) std::abort();
  }
  return 0;
}
