// InferenceObserver: how the invocation router reports billable inferences to metering
// (commerce/meter.h implements it). The router calls Inferences() once per InvokeEndpoint
// that the container answered with a 2xx status, with the units to bill: ConsumedUnits of the
// container's `X-Amzn-Inference-Metering: {"Dimension":"inference.count","ConsumedUnits":N}`
// header, 1 when the header is absent or unreadable. 4xx/5xx answers and requests that never
// reached a container are not reported.
//
// Implementations must be cheap and non-blocking (the call sits on the data path) and
// thread-safe: many router threads call concurrently. The observer is borrowed; its owner
// keeps it alive until the router is gone.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/json.h"

namespace mercato::hosting {

class InferenceObserver {
 public:
  virtual ~InferenceObserver() = default;
  // `container`: the container definition that served the call (its "ProductIds" array names
  // the marketplace products it runs; absent or empty for the account's own images).
  virtual void Inferences(std::string_view account, std::string_view endpoint_name,
                          const Json& container, int64_t units) = 0;
};

}  // namespace mercato::hosting
