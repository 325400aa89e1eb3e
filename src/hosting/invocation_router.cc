#include "hosting/invocation_router.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"
#include "hosting/instance_client.h"

namespace mercato::hosting {
namespace {

absl::Status ValidationError(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

double RandomUnit() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

const RouteVariant* PickVariant(const RouteTable& t) {
  double total = 0;
  for (const auto& v : t.variants) {
    if (!v.instances.empty()) total += v.weight;
  }
  const RouteVariant* last = nullptr;
  if (total <= 0) {
    for (const auto& v : t.variants) {
      if (!v.instances.empty()) return &v;
    }
    return nullptr;
  }
  double x = RandomUnit() * total;
  for (const auto& v : t.variants) {
    if (v.instances.empty() || v.weight <= 0) continue;
    last = &v;
    if (x < v.weight) return &v;
    x -= v.weight;
  }
  return last;
}

// The instance with the fewest requests in flight, skipping `tried`; ties broken at random.
std::shared_ptr<RoutedInstance> PickInstance(const RouteVariant& v,
                                             const std::vector<std::string>& tried) {
  std::vector<std::shared_ptr<RoutedInstance>> best;
  int least = INT32_MAX;
  for (const auto& inst : v.instances) {
    if (inst->retired.load()) continue;
    if (std::find(tried.begin(), tried.end(), inst->id()) != tried.end()) continue;
    int n = inst->outstanding.load();
    if (n < least) {
      least = n;
      best.clear();
    }
    if (n == least) best.push_back(inst);
  }
  if (best.empty()) return nullptr;
  return best[static_cast<size_t>(RandomUnit() * best.size()) % best.size()];
}

int64_t MicrosSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

}  // namespace

InvocationRouter::InvocationRouter(EndpointController& controller,
                                   sandbox::ContainerRuntime& runtime, MetadataStore& store,
                                   EndpointMetrics& metrics, RouterOptions options)
    : controller_(controller),
      runtime_(runtime),
      store_(store),
      metrics_(metrics),
      options_(options) {}

namespace {

// The units a 2xx answer bills: the container's X-Amzn-Inference-Metering
// {"Dimension":"inference.count","ConsumedUnits":N} (N >= 0), else 1.
int64_t MeteredUnits(const std::string& header) {
  if (header.empty()) return 1;
  Json j = Json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("Dimension", "") != "inference.count") return 1;
  auto it = j.find("ConsumedUnits");
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0) return 1;
  return it->get<int64_t>();
}

}  // namespace

absl::StatusOr<InvokeResponse> InvocationRouter::Invoke(std::string_view account,
                                                        std::string_view endpoint,
                                                        const InvokeRequest& request) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> tried;  // instances the request could not be delivered to
  absl::Status undelivered;
  std::string undelivered_variant;
  int delivery_attempts = 0;
  // Bounded: each pass either returns, or adds an instance to `tried`.
  for (int pass = 0; pass < 4 * kMaxAttempts && delivery_attempts < kMaxAttempts; ++pass) {
    std::shared_ptr<const RouteTable> table = controller_.Routes(account, endpoint);
    std::string status = table ? table->status : "";
    if (!table) {
      // Not reconciled yet (just created), or missing.
      ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT status FROM endpoints WHERE "
                                                  "account_id = ? AND name = ?",
                                                  {std::string(account), std::string(endpoint)}));
      if (!rows.empty()) status = rows[0].Text(0);
    }
    if (status.empty() || status == kDeleting) {
      return ValidationError(
          fmt::format("Endpoint {} of account {} not found.", endpoint, account));
    }
    if (!table || (status != kInService && status != kUpdating)) {
      return ValidationError(
          fmt::format("Endpoint {} of account {} is not in service; its status is {}.", endpoint,
                      account, status));
    }
    const RouteVariant* variant = nullptr;
    if (!request.target_variant.empty()) {
      for (const auto& v : table->variants) {
        if (v.name == request.target_variant) variant = &v;
      }
      if (variant == nullptr) {
        return ValidationError(
            fmt::format("Variant {} does not exist in endpoint {} of account {}.",
                        request.target_variant, endpoint, account));
      }
    } else {
      variant = PickVariant(*table);
    }
    std::shared_ptr<RoutedInstance> inst = variant ? PickInstance(*variant, tried) : nullptr;
    if (!inst && variant != nullptr && request.target_variant.empty()) {
      // Every instance of the weighted pick failed: any other variant will do.
      for (const auto& v : table->variants) {
        if ((inst = PickInstance(v, tried))) break;
      }
    }
    if (!inst) {
      if (!tried.empty()) break;  // report why the last delivery failed
      metrics_.Record(account, endpoint, variant ? variant->name : "", "", 503, -1,
                      MicrosSince(start));
      return AwsError(absl::StatusCode::kUnavailable, "ServiceUnavailable",
                      fmt::format("Endpoint {} has no healthy instance to serve the request at "
                                  "the moment; try again.",
                                  endpoint));
    }
    inst->outstanding.fetch_add(1);
    if (inst->retired.load()) {
      // Taken out of rotation after the pick: the controller may be stopping it.
      inst->outstanding.fetch_sub(1);
      tried.push_back(inst->id());
      continue;
    }
    auto model_start = std::chrono::steady_clock::now();
    bool sent = false;
    absl::StatusOr<InvokeResponse> r = Forward(*inst, request, &sent);
    int64_t model_us = MicrosSince(model_start);
    inst->outstanding.fetch_sub(1);
    if (!r.ok() && !sent) {
      controller_.ReportUnreachable(inst->id());
      tried.push_back(inst->id());
      undelivered = r.status();
      undelivered_variant = inst->variant();
      ++delivery_attempts;
      continue;
    }
    int code = (!r.ok() || r->model_error) ? 424 : 200;
    metrics_.Record(account, endpoint, inst->variant(), inst->id(), code, model_us,
                    MicrosSince(start) - model_us);
    if (!r.ok()) {
      if (absl::IsDeadlineExceeded(r.status())) {
        return AwsError(absl::StatusCode::kFailedPrecondition, "ModelError",
                        fmt::format("Your invocation timed out while waiting for a response "
                                    "from container primary after {} seconds.",
                                    absl::ToInt64Seconds(options_.invocation_timeout)));
      }
      controller_.ReportUnreachable(inst->id());
      return AwsError(absl::StatusCode::kFailedPrecondition, "ModelError",
                      fmt::format("Received an error from container primary of variant {}: {}",
                                  inst->variant(), std::string(r.status().message())));
    }
    r->variant = inst->variant();
    r->instance_id = inst->id();
    if (observer_ != nullptr && r->status >= 200 && r->status < 300) {
      static const Json kNoProducts = {{"ProductIds", Json::array()}};
      const Json* products = &kNoProducts;
      for (const auto& v : table->variants) {
        if (v.name == r->variant && v.products) products = v.products.get();
      }
      observer_->Inferences(account, endpoint, *products, MeteredUnits(r->metering));
    }
    return r;
  }
  metrics_.Record(account, endpoint, undelivered_variant, "", 424, -1, MicrosSince(start));
  return AwsError(
      absl::StatusCode::kFailedPrecondition, "ModelError",
      fmt::format("Received an error from container primary of variant {}: {}", undelivered_variant,
                  undelivered.ok() ? std::string("no instance could be reached")
                                   : std::string(undelivered.message())));
}

bool InvocationRouter::InstanceDied(const std::string& id) {
  // A reset can reach us a moment before the runtime has reaped the process.
  for (int i = 0; i < 20; ++i) {
    auto st = runtime_.Status(id);
    if (!st.ok() || !st->running) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

absl::StatusOr<InvokeResponse> InvocationRouter::Forward(RoutedInstance& inst,
                                                         const InvokeRequest& request, bool* sent) {
  *sent = false;
  http::Headers headers;
  if (!request.content_type.empty()) headers.emplace_back("Content-Type", request.content_type);
  if (!request.accept.empty()) headers.emplace_back("Accept", request.accept);
  if (!request.custom_attributes.empty()) {
    headers.emplace_back("X-Amzn-SageMaker-Custom-Attributes", request.custom_attributes);
  }
  auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(options_.invocation_timeout);
  // A pooled connection may have been closed by the container while idle: then retry once
  // on a fresh one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = attempt == 0 ? inst.TakeConnection() : -1;
    bool reused = fd >= 0;
    if (!reused) {
      auto dialed = runtime_.Dial(inst.id(), options_.container_port, options_.dial_timeout);
      if (!dialed.ok()) return absl::UnavailableError(std::string(dialed.status().message()));
      fd = *dialed;
    }
    *sent = true;  // from here on, the container may see the request
    bool answered = false;
    auto r = RoundTrip(fd, "POST", "/invocations", headers, request.body, deadline,
                       options_.max_response_bytes, &answered);
    if (!r.ok()) {
      ::close(fd);
      // The container closed the idle connection: it cannot have processed the request.
      if (reused && absl::IsUnavailable(r.status())) {
        *sent = false;
        continue;
      }
      // The instance died with the request (killed, crashed) before answering a byte: it
      // will never answer it, so another instance may (the router fails over).
      if (absl::IsUnavailable(r.status()) && !answered && InstanceDied(inst.id())) {
        *sent = false;
        return r.status();
      }
      if (absl::IsResourceExhausted(r.status())) {
        return absl::UnavailableError("the response exceeds the 6 MB limit");
      }
      return r.status();
    }
    if (r->keep_alive) {
      inst.ReturnConnection(fd);
    } else {
      ::close(fd);
    }
    InvokeResponse out;
    out.status = r->status;
    out.content_type = r->Header("Content-Type");
    out.custom_attributes = r->Header("X-Amzn-SageMaker-Custom-Attributes");
    out.metering = r->Header("X-Amzn-Inference-Metering");
    out.body = std::move(r->body);
    out.model_error = r->status >= 400;
    return out;
  }
  return absl::UnavailableError("connection to the container failed");
}

}  // namespace mercato::hosting
