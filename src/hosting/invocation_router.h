// InvocationRouter: the data path of InvokeEndpoint. For an endpoint of the caller's account
// it picks a production variant (the requested TargetVariant, else weighted random by the
// variants' current weights), then the variant's healthy instance with the fewest requests
// in flight, and forwards the body with Content-Type, Accept and
// X-Amzn-SageMaker-Custom-Attributes to the container's POST /invocations over a pooled
// keep-alive connection made with ContainerRuntime::Dial.
//
// Errors carry SageMaker Runtime's codes (base/errors.h): ValidationError (unknown endpoint,
// endpoint not in service, unknown variant), ServiceUnavailable (no healthy instance right
// now), ModelError (the container timed out, closed the connection, or answered 4xx/5xx —
// then InvokeResponse is returned with model_error set, so the caller can report the
// original status and message). Per-endpoint, per-variant and per-instance figures go to
// EndpointMetrics (Prometheus and per-minute series).
//
// Robustness: a request that could not be delivered at all (the instance no longer listens,
// or was taken out of rotation between being picked and being used) goes to another
// healthy instance, up to kMaxAttempts in total; once bytes reached a container it is never
// sent again (InvokeEndpoint need not be idempotent). The controller drains instances
// before stopping them (endpoint_controller.h), so blue/green updates lose no request.
// The request body is never copied: it is sent from InvokeRequest::body as is.
// Thread-safe; borrows the controller, runtime, store and metrics.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hosting/endpoint_controller.h"
#include "hosting/endpoint_metrics.h"
#include "hosting/usage_observer.h"
#include "http/message.h"
#include "sandbox/container_runtime.h"
#include "store/metadata_store.h"

namespace mercato::hosting {

struct InvokeRequest {
  std::string content_type;
  std::string accept;
  std::string custom_attributes;
  std::string target_variant;
  std::string body;
};

struct InvokeResponse {
  std::string variant;
  int status = 200;  // the container's status
  std::string content_type;
  std::string custom_attributes;
  std::string metering;  // X-Amzn-Inference-Metering, if the container sent it
  std::string body;
  bool model_error = false;  // the container answered 4xx/5xx
  std::string instance_id;
};

struct RouterOptions {
  absl::Duration invocation_timeout = absl::Seconds(60);
  absl::Duration dial_timeout = absl::Seconds(2);
  size_t max_response_bytes = 6 << 20;
  int container_port = 8080;
};

class InvocationRouter {
 public:
  static constexpr int kMaxAttempts = 3;

  InvocationRouter(EndpointController& controller, sandbox::ContainerRuntime& runtime,
                   MetadataStore& store, EndpointMetrics& metrics, RouterOptions options = {});

  absl::StatusOr<InvokeResponse> Invoke(std::string_view account_id, std::string_view endpoint_name,
                                        const InvokeRequest& request);
  // Receives every billable inference (usage_observer.h); call before serving. May be null.
  void set_inference_observer(InferenceObserver* observer) { observer_ = observer; }

 private:
  // `*sent` tells whether any byte of the request may have reached the container.
  absl::StatusOr<InvokeResponse> Forward(RoutedInstance& inst, const InvokeRequest& request,
                                         bool* sent);
  // True when the instance's process is gone (waits up to ~200 ms for the runtime to see it).
  bool InstanceDied(const std::string& id);

  EndpointController& controller_;
  sandbox::ContainerRuntime& runtime_;
  MetadataStore& store_;
  EndpointMetrics& metrics_;
  const RouterOptions options_;
  InferenceObserver* observer_ = nullptr;
};

}  // namespace mercato::hosting
