#include "hosting/endpoint_controller.h"

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "base/crypto.h"
#include "base/logging.h"
#include "base/status.h"
#include "fmt/format.h"
#include "hosting/instance_client.h"
#include "hosting/serve_command.h"

namespace mercato::hosting {
namespace fs = std::filesystem;

struct EndpointController::Instance {
  std::shared_ptr<RoutedInstance> routed;
  std::string id;
  std::string dir;
  absl::Time started;
  absl::Time last_ping;
  bool healthy = false;
};

struct EndpointController::Variant {
  std::string name;
  Json spec;
  std::vector<std::unique_ptr<Instance>> instances;
  std::string specified_image;
  std::string resolved_image;
  absl::Time resolution_time;
  absl::Time retry_after = absl::InfinitePast();  // after a failed start in replace mode
};

struct EndpointController::Deployment {
  Json spec;
  std::vector<Variant> variants;
};

struct EndpointController::EndpointState {
  std::unique_ptr<Deployment> current;  // serving (or being created)
  std::unique_ptr<Deployment> next;     // blue/green target of an UpdateEndpoint
};

namespace {}  // namespace

EndpointController::EndpointController(MetadataStore& store, sandbox::ContainerRuntime& runtime,
                                       ImageResolver& resolver, ModelDataFetcher& fetcher,
                                       const Clock& clock, ControllerOptions options)
    : store_(store),
      runtime_(runtime),
      resolver_(resolver),
      fetcher_(fetcher),
      clock_(clock),
      options_(std::move(options)) {}

EndpointController::~EndpointController() { Stop(); }

void EndpointController::Start() {
  // Instances of a previous process died with it.
  auto closed = store_.Exec("UPDATE endpoint_instances SET stopped_at = ? WHERE stopped_at IS NULL",
                            {absl::ToUnixMicros(clock_.Now())});
  if (!closed.ok()) spdlog::warn("hosting: {}", closed.status().ToString());
  thread_ = std::thread([this] { Loop(); });
}

void EndpointController::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EndpointController::Notify() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    wake_ = true;
  }
  loop_cv_.notify_all();
}

void EndpointController::Loop() {
  std::unique_lock<std::mutex> lock(loop_mu_);
  while (!stopping_) {
    wake_ = false;
    lock.unlock();
    absl::Status s = ReconcileOnce();
    if (!s.ok()) spdlog::warn("hosting: reconcile pass failed: {}", s.ToString());
    lock.lock();
    // While an endpoint is being created, updated or deleted, look again soon: a new
    // instance is typically healthy within tens of milliseconds.
    absl::Duration wait =
        transitioning_ ? std::min(options_.busy_interval, options_.interval) : options_.interval;
    loop_cv_.wait_for(lock, absl::ToChronoMilliseconds(wait),
                      [this] { return stopping_ || wake_; });
  }
}

absl::Status EndpointController::ReconcileOnce() {
  std::lock_guard<std::mutex> pass(pass_mu_);
  ASSIGN_OR_RETURN(std::vector<EndpointRecord> records, LoadEndpoints(store_));
  std::set<std::pair<std::string, std::string>> seen;
  bool transitioning = false;
  for (const EndpointRecord& e : records) {
    if (e.status != "InService" && e.status != "Failed" && e.status != "OutOfService") {
      transitioning = true;
    }
    auto key = std::make_pair(e.account_id, e.name);
    seen.insert(key);
    auto& st = states_[key];
    if (!st) st = std::make_unique<EndpointState>();
    ReconcileEndpoint(e, *st);
    if (e.status == kDeleting) states_.erase(key);
  }
  for (auto it = states_.begin(); it != states_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    StopDeployment(it->second->current.get());
    StopDeployment(it->second->next.get());
    Unpublish(it->first.first, it->first.second);
    it = states_.erase(it);
  }
  transitioning_ = transitioning;
  std::lock_guard<std::mutex> lock(pub_mu_);
  unreachable_.clear();
  return absl::OkStatus();
}

void EndpointController::ReconcileEndpoint(const EndpointRecord& e, EndpointState& st) {
  auto set_state = [&](std::string_view status, std::string_view reason, const Json* spec,
                       bool clear_pending, const std::string* config) {
    absl::Status s = SetEndpointState(store_, clock_, e.account_id, e.name, status, reason, spec,
                                      clear_pending, config);
    if (!s.ok()) spdlog::warn("hosting: cannot update endpoint {}: {}", e.name, s.ToString());
  };
  std::string reason;
  if (e.status == kDeleting) {
    StopDeployment(st.current.get());
    StopDeployment(st.next.get());
    st.current.reset();
    st.next.reset();
    absl::Status s = DeleteEndpointRecord(store_, e.account_id, e.name);
    if (!s.ok()) spdlog::warn("hosting: cannot delete endpoint {}: {}", e.name, s.ToString());
    Unpublish(e.account_id, e.name);
    return;
  }
  if (e.status == kFailed) {
    StopDeployment(st.current.get());
    StopDeployment(st.next.get());
    st.current.reset();
    st.next.reset();
    Publish(e, kFailed, nullptr);
    return;
  }
  if (!st.current) st.current = NewDeployment(e, e.spec);
  if (e.status == kCreating) {
    Progress p = Advance(e, *st.current, /*replace=*/false, &reason);
    if (p == Progress::kReady) {
      set_state(kInService, "", nullptr, false, nullptr);
      Publish(e, kInService, st.current.get());
    } else if (p == Progress::kFailed) {
      spdlog::warn("hosting: endpoint {} of account {} failed: {}", e.name, e.account_id, reason);
      StopDeployment(st.current.get());
      st.current.reset();
      set_state(kFailed, reason, nullptr, false, nullptr);
      Publish(e, kFailed, nullptr);
    } else {
      Publish(e, kCreating, st.current.get());
    }
    return;
  }
  if (e.status == kUpdating && !e.pending_spec.is_null()) {
    Advance(e, *st.current, /*replace=*/true, &reason);
    if (!st.next) st.next = NewDeployment(e, e.pending_spec);
    Progress p = Advance(e, *st.next, /*replace=*/false, &reason);
    if (p == Progress::kReady) {
      Publish(e, kInService, st.next.get());  // traffic moves before the old set stops
      StopDeployment(st.current.get());
      st.current = std::move(st.next);
      std::string config = e.pending_spec.value("EndpointConfigName", e.config_name);
      set_state(kInService, "", &e.pending_spec, true, &config);
    } else if (p == Progress::kFailed) {
      StopDeployment(st.next.get());
      st.next.reset();
      set_state(kInService,
                fmt::format("Update to endpoint configuration {} failed and was rolled back: {}",
                            e.pending_spec.value("EndpointConfigName", ""), reason),
                nullptr, true, nullptr);
      Publish(e, kInService, st.current.get());
    } else {
      Publish(e, kUpdating, st.current.get());
    }
    return;
  }
  // InService, or Updating in place (weights and capacities).
  if (st.next) {
    StopDeployment(st.next.get());
    st.next.reset();
  }
  st.current->spec = e.spec;
  for (Variant& v : st.current->variants) {
    for (const Json& sv : e.spec["Variants"]) {
      if (sv["VariantName"] == v.name) v.spec = sv;
    }
  }
  Progress p = Advance(e, *st.current, /*replace=*/true, &reason);
  if (e.status == kUpdating && p == Progress::kReady) {
    set_state(kInService, "", nullptr, false, nullptr);
  }
  Publish(e, e.status == kUpdating && p != Progress::kReady ? kUpdating : kInService,
          st.current.get());
}

std::unique_ptr<EndpointController::Deployment> EndpointController::NewDeployment(
    const EndpointRecord& e, const Json& spec) {
  auto d = std::make_unique<Deployment>();
  d->spec = spec;
  for (const Json& v : spec["Variants"]) {
    Variant var;
    var.name = v["VariantName"];
    var.spec = v;
    d->variants.push_back(std::move(var));
  }
  return d;
}

EndpointController::Progress EndpointController::Advance(const EndpointRecord& e, Deployment& d,
                                                         bool replace, std::string* reason) {
  bool ready = true;
  absl::Time now = clock_.Now();
  std::set<std::string> unreachable;
  {
    std::lock_guard<std::mutex> lock(pub_mu_);
    unreachable = unreachable_;
  }
  for (Variant& v : d.variants) {
    int desired = v.spec.value("DesiredInstanceCount", 1);
    absl::Duration timeout = absl::Seconds(v.spec.value("StartupTimeoutSeconds", 240));
    for (auto it = v.instances.begin(); it != v.instances.end();) {
      Instance& inst = **it;
      bool drop = false;
      auto status = runtime_.Status(inst.id);
      if (!status.ok() || !status->running) {
        std::string why = status.ok() ? ExitReason(v.name, inst.id, *status)
                                      : std::string(status.status().message());
        if (!replace) {
          *reason = why;
          return Progress::kFailed;
        }
        spdlog::warn("hosting: endpoint {} instance {} ended, replacing it: {}", e.name, inst.id,
                     why);
        drop = true;
      } else if (!inst.healthy) {
        if (Ping(inst.id)) {
          inst.healthy = true;
          inst.last_ping = now;
        } else if (now - inst.started > timeout) {
          std::string why = fmt::format(
              "The primary container for production variant {} did not pass the ping health "
              "check within {} seconds. Please check the logs of this endpoint.",
              v.name, absl::ToInt64Seconds(timeout));
          if (!replace) {
            *reason = why;
            return Progress::kFailed;
          }
          drop = true;
        }
      } else if (unreachable.count(inst.id) || now - inst.last_ping >= options_.liveness_interval) {
        if (Ping(inst.id)) {
          inst.last_ping = now;
        } else {
          // Out of rotation; it gets the startup timeout to recover before replacement.
          inst.healthy = false;
          inst.started = now;
        }
      }
      if (drop) {
        StopInstance(inst);
        it = v.instances.erase(it);
      } else {
        ++it;
      }
    }
    while (static_cast<int>(v.instances.size()) > desired) {
      StopInstance(*v.instances.back());
      v.instances.pop_back();
    }
    while (static_cast<int>(v.instances.size()) < desired && now >= v.retry_after) {
      absl::Status s = StartInstance(e, v);
      if (s.ok()) continue;
      if (!replace) {
        *reason = std::string(s.message());
        return Progress::kFailed;
      }
      spdlog::warn("hosting: endpoint {}: {}", e.name, std::string(s.message()));
      v.retry_after = now + absl::Seconds(10);
      break;
    }
    int healthy = 0;
    for (const auto& inst : v.instances) healthy += inst->healthy ? 1 : 0;
    if (healthy < desired) ready = false;
  }
  return ready ? Progress::kReady : Progress::kPending;
}

absl::Status EndpointController::StartInstance(const EndpointRecord& e, Variant& v) {
  const Json& c = v.spec["Container"];
  std::string image_ref = c.value("Image", "");
  // A model package's image and model data belong to its seller (or the escrow account):
  // the buyer sees neither their locations nor errors that would name them.
  const bool package = c.contains("ModelPackageName");
  auto image = resolver_.Resolve(ImageAccountOf(c, e.account_id), image_ref);
  if (!image.ok()) {
    if (package) {
      spdlog::error("hosting: model package image {} of {}: {}", image_ref,
                    c["ModelPackageName"].dump(), image.status().ToString());
      return absl::FailedPreconditionError(fmt::format(
          "The image of model package {} for production variant {} could not be prepared",
          c["ModelPackageName"].get<std::string>(), v.name));
    }
    return absl::FailedPreconditionError(
        fmt::format("Requested image {} for production variant {} could not be resolved: {}",
                    image_ref, v.name, std::string(image.status().message())));
  }
  if (!package) v.specified_image = image_ref;
  v.resolved_image = image->image_uri.empty() ? image->digest : image->image_uri;
  v.resolution_time = clock_.Now();

  std::string prefix = fmt::format("{}-{}", e.name, v.name);
  if (prefix.size() > 100) prefix.resize(100);
  std::string id = fmt::format("{}-{}", prefix, RandomHex(4));
  std::string dir = options_.instances_dir + "/" + id;
  std::string model_dir = dir + "/model";
  std::error_code ec;
  fs::create_directories(model_dir, ec);
  if (ec) return absl::InternalError(fmt::format("cannot create {}: {}", model_dir, ec.message()));
  if (c.contains("ModelDataUrl")) {
    absl::Status s = fetcher_.Fetch(ModelDataAccountOf(c, e.account_id),
                                    c["ModelDataUrl"].get<std::string>(), model_dir);
    if (!s.ok()) {
      fs::remove_all(dir, ec);
      if (ModelDataAccountOf(c, e.account_id) != e.account_id) {
        spdlog::error("hosting: model data of {}: {}", c["ModelPackageName"].dump(), s.ToString());
        return absl::FailedPreconditionError(
            fmt::format("The model data of model package {} could not be prepared",
                        c["ModelPackageName"].get<std::string>()));
      }
      return s;
    }
  }

  sandbox::InstanceSpec spec;
  spec.id = id;
  spec.rootfs = image->rootfs;
  for (const std::string& kv : image->env) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) spec.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (c.contains("Environment")) {
    for (auto& [k, val] : c["Environment"].items()) spec.env[k] = val.get<std::string>();
  }
  auto command = ServeCommand(*image, spec.env,
                              package ? c["ModelPackageName"].get<std::string>() : image_ref);
  if (!command.ok()) {
    fs::remove_all(dir, ec);
    return command.status();
  }
  spec.entrypoint = std::move(command->entrypoint);
  spec.args = std::move(command->args);
  spec.mounts.push_back({model_dir, "/opt/ml/model", /*read_only=*/true});
  spec.instance_type = v.spec.value("InstanceType", "");
  spec.log_dir = dir + "/logs";
  auto started = runtime_.Start(spec);
  if (!started.ok()) {
    fs::remove_all(dir, ec);
    return absl::FailedPreconditionError(
        fmt::format("Failed to start an instance of type {} for production variant {}: {}",
                    spec.instance_type, v.name, std::string(started.status().message())));
  }
  // The row is what metering bills: which marketplace products run, for which endpoint.
  auto row = store_.Exec(
      "INSERT INTO endpoint_instances (instance_id, account_id, endpoint_name, variant_name, "
      "instance_type, started_at, stopped_at, product_ids, resource_arn) VALUES "
      "(?, ?, ?, ?, ?, ?, NULL, ?, ?)",
      {id, e.account_id, e.name, v.name, spec.instance_type, absl::ToUnixMicros(clock_.Now()),
       c.value("ProductIds", Json::array()).dump(), e.arn});
  if (!row.ok())
    spdlog::warn("hosting: cannot record instance {}: {}", id, row.status().ToString());
  auto inst = std::make_unique<Instance>();
  inst->routed = std::make_shared<RoutedInstance>(id, v.name);
  inst->id = id;
  inst->dir = dir;
  inst->started = clock_.Now();
  spdlog::info("hosting: endpoint {} variant {}: started instance {}", e.name, v.name, id);
  v.instances.push_back(std::move(inst));
  return absl::OkStatus();
}

void EndpointController::Drain(RoutedInstance& inst) {
  // Routers increment `outstanding` before they re-check `retired` (both seq_cst), so once
  // `retired` is set a zero count here means no request can still reach the instance.
  inst.retired.store(true);
  auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(options_.drain_timeout);
  while (inst.outstanding.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  inst.CloseIdle();
}

void EndpointController::StopInstance(Instance& inst) {
  Drain(*inst.routed);
  absl::Status s = runtime_.Stop(inst.id, options_.stop_grace);
  if (!s.ok() && !absl::IsNotFound(s)) {
    spdlog::warn("hosting: cannot stop {}: {}", inst.id, s.ToString());
  }
  (void)runtime_.Forget(inst.id);
  (void)store_.Exec("UPDATE endpoint_instances SET stopped_at = ? WHERE instance_id = ?",
                    {absl::ToUnixMicros(clock_.Now()), inst.id});
  std::error_code ec;
  fs::remove_all(inst.dir + "/model", ec);
}

void EndpointController::StopDeployment(Deployment* d) {
  if (d == nullptr) return;
  // Out of rotation all at once, so the instances drain side by side.
  for (Variant& v : d->variants) {
    for (auto& inst : v.instances) inst->routed->retired.store(true);
  }
  for (Variant& v : d->variants) {
    for (auto& inst : v.instances) StopInstance(*inst);
    v.instances.clear();
  }
}

bool EndpointController::Ping(const std::string& id) {
  auto fd = runtime_.Dial(id, options_.container_port, options_.ping_timeout);
  if (!fd.ok()) return false;
  auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(options_.ping_timeout);
  auto r = RoundTrip(*fd, "GET", "/ping", {}, "", deadline, 1 << 20);
  ::close(*fd);
  return r.ok() && r->status == 200;
}

std::string EndpointController::ExitReason(const std::string& variant, const std::string& id,
                                           const sandbox::InstanceStatus& status) {
  std::string tail;
  if (auto logs = runtime_.Logs(id); logs.ok()) {
    std::vector<std::string> lines;
    while (true) {
      auto events = (*logs)->Read(1000);
      if (!events.ok() || events->empty()) break;
      for (auto& ev : *events) lines.push_back(ev.message);
    }
    size_t from = lines.size() > 3 ? lines.size() - 3 : 0;
    for (size_t i = from; i < lines.size(); ++i) tail += (tail.empty() ? "" : " | ") + lines[i];
  }
  std::string how = status.reason == "OutOfMemory"
                        ? "was killed for exceeding its memory limit"
                        : fmt::format("exited with code {}", status.exit_code);
  std::string out = fmt::format(
      "The primary container for production variant {} did not pass the ping health check: "
      "the container {}.",
      variant, how);
  if (!tail.empty()) out += " Last log lines: " + tail.substr(0, 600);
  return out;
}

void EndpointController::Publish(const EndpointRecord& e, const std::string& status,
                                 const Deployment* d) {
  auto table = std::make_shared<RouteTable>();
  table->account_id = e.account_id;
  table->endpoint_name = e.name;
  table->status = status;
  Json view = Json::object();
  Json instances = Json::array();
  if (d != nullptr) {
    for (const Variant& v : d->variants) {
      for (const auto& inst : v.instances) {
        instances.push_back({{"InstanceId", inst->id},
                             {"VariantName", v.name},
                             {"Healthy", inst->healthy},
                             {"StartTime", absl::ToUnixMicros(inst->started) / 1e6}});
      }
      RouteVariant rv;
      rv.name = v.name;
      rv.weight = v.spec.value("DesiredWeight", 1.0);
      rv.products = std::make_shared<const Json>(
          Json{{"ProductIds", v.spec["Container"].value("ProductIds", Json::array())}});
      for (const auto& inst : v.instances) {
        if (inst->healthy) rv.instances.push_back(inst->routed);
      }
      Json images = Json::array();
      if (!v.specified_image.empty()) {
        images.push_back({{"SpecifiedImage", v.specified_image},
                          {"ResolvedImage", v.resolved_image},
                          {"ResolutionTime", absl::ToUnixMicros(v.resolution_time) / 1e6}});
      }
      view[v.name] = {{"CurrentInstanceCount", rv.instances.size()},
                      {"CurrentWeight", rv.weight},
                      {"DeployedImages", images}};
      table->variants.push_back(std::move(rv));
    }
  }
  std::lock_guard<std::mutex> lock(pub_mu_);
  auto key = std::make_pair(e.account_id, e.name);
  routes_[key] = std::move(table);
  views_[key] = std::move(view);
  instances_[key] = std::move(instances);
}

void EndpointController::Unpublish(const std::string& account, const std::string& name) {
  std::lock_guard<std::mutex> lock(pub_mu_);
  routes_.erase({account, name});
  views_.erase({account, name});
  instances_.erase({account, name});
}

std::shared_ptr<const RouteTable> EndpointController::Routes(std::string_view account_id,
                                                             std::string_view endpoint_name) const {
  std::lock_guard<std::mutex> lock(pub_mu_);
  auto it = routes_.find({std::string(account_id), std::string(endpoint_name)});
  return it == routes_.end() ? nullptr : it->second;
}

void EndpointController::ReportUnreachable(const std::string& instance_id) {
  {
    std::lock_guard<std::mutex> lock(pub_mu_);
    unreachable_.insert(instance_id);
  }
  Notify();
}

Json EndpointController::VariantRuntime(std::string_view account_id,
                                        std::string_view endpoint_name) {
  std::lock_guard<std::mutex> lock(pub_mu_);
  auto it = views_.find({std::string(account_id), std::string(endpoint_name)});
  return it == views_.end() ? Json() : it->second;
}

Json EndpointController::Instances(std::string_view account_id, std::string_view endpoint_name,
                                   bool with_pids) {
  Json out;
  {
    std::lock_guard<std::mutex> lock(pub_mu_);
    auto it = instances_.find({std::string(account_id), std::string(endpoint_name)});
    if (it == instances_.end()) return Json();
    out = it->second;
  }
  if (with_pids) {
    for (Json& inst : out) {
      auto status = runtime_.Status(inst["InstanceId"].get<std::string>());
      if (status.ok() && status->running) inst["Pid"] = status->pid;
    }
  }
  return out;
}

}  // namespace mercato::hosting
