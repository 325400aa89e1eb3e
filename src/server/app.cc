#include "server/app.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "api/marketplace/marketplace_api.h"
#include "api/s3/s3_api.h"
#include "api/v1/image_routes.h"
#include "api/v1/v1_api.h"
#include "auth/accounts.h"
#include "auth/authenticator.h"
#include "base/aead.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/status.h"
#include "blob/local_blob_store.h"
#include "fmt/format.h"
#include "hosting/invocation_router.h"
#include "http/server.h"
#include "image/image_registry.h"
#include "image/rootfs_cache.h"
#include "jobs/image_runner.h"
#include "sandbox/bwrap_runtime.h"
#include "server/dispatcher.h"
#include "server/hosting_wiring.h"
#include "server/marketplace.h"
#include "storage/object_store.h"
#include "store/sqlite_store.h"

namespace mercato::server {
namespace fs = std::filesystem;

struct App::Impl {
  Config config;
  std::unique_ptr<Clock> clock;
  ManualClock* test_clock = nullptr;  // set under --test-clock
  RealClock signing_clock;            // what SigV4's allowed clock skew is measured against
  std::string master_key;
  MetadataStorePtr store;
  BlobStorePtr blobs;
  std::unique_ptr<auth::AccountService> accounts;
  std::unique_ptr<auth::Authenticator> authenticator;
  MetricsRegistry metrics;
  std::unique_ptr<api::s3::S3Api> s3;
  std::unique_ptr<api::v1::V1Api> v1;
  std::unique_ptr<Dispatcher> dispatcher;
  // Images, the container runtime and image runs; shared with hosting (declared in
  // dependency order, so the runner goes before the runtime it uses).
  std::unique_ptr<ImageRegistry> images;
  std::unique_ptr<RootfsCache> rootfs;
  sandbox::ContainerRuntimePtr runtime;  // null when this host cannot run containers
  std::unique_ptr<jobs::ImageRunner> image_runner;
  // SageMaker hosting (models, endpoints, InvokeEndpoint); see hosting_wiring.h.
  std::unique_ptr<HostingWiring> hosting;
  // The marketplace (catalog, sellers, subscriptions); see marketplace.h.
  std::unique_ptr<storage::ObjectStore> objects;
  // X-Amz-Target marketplace services (declared before `marketplace`, whose parts register
  // actions on it).
  std::unique_ptr<api::marketplace::MarketplaceApi> marketplace_api;
  std::unique_ptr<Marketplace> marketplace;
  http::ServerPtr server;

  // Background maintenance (blob garbage collection).
  std::thread maintenance;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::atomic<bool> shut_down{false};

  void MaintenanceLoop();
  // Needs the listening port (image URIs name it), so runs after the server is created
  // (the server only serves after Start()).
  absl::Status CreateImageServices();
  absl::Status BuildMarketplace();
};

namespace {

absl::Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return absl::InternalError(fmt::format("cannot create {}", tmp));
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(fmt::format("cannot write {}", path));
  }
  ::chmod(path.c_str(), mode);
  return absl::OkStatus();
}

// Makes sure an operator account exists and DIR/admin-credentials holds working
// credentials for it.
absl::Status EnsureOperator(auth::AccountService& accounts, const std::string& path) {
  ASSIGN_OR_RETURN(auto op, accounts.OperatorAccount());
  Json creds;
  if (!op.has_value()) {
    ASSIGN_OR_RETURN(auto created, accounts.CreateAccount("operator", /*is_operator=*/true));
    creds = {{"account_id", created.account.id},
             {"access_key_id", created.access_key.key.id},
             {"secret_access_key", created.access_key.secret_access_key},
             {"token", created.token}};
  } else if (!fs::exists(path)) {
    ASSIGN_OR_RETURN(auto key, accounts.CreateAccessKey(op->id));
    ASSIGN_OR_RETURN(std::string token, accounts.CreateToken(op->id, "admin-credentials"));
    creds = {{"account_id", op->id},
             {"access_key_id", key.key.id},
             {"secret_access_key", key.secret_access_key},
             {"token", token}};
    spdlog::warn("{} was missing: issued the operator a new access key and token", path);
  } else {
    return absl::OkStatus();
  }
  return WriteFileAtomically(path, creds.dump(2) + "\n", 0600);
}

// The platform-owned account that holds escrowed product versions (marketplace.h). Nobody
// signs in as it: the credentials CreateAccount issues are revoked at once.
constexpr char kEscrowAccountName[] = "mercato-marketplace";

absl::StatusOr<std::string> EnsureEscrowAccount(auth::AccountService& accounts) {
  ASSIGN_OR_RETURN(auto all, accounts.ListAccounts());
  for (const auto& a : all) {
    if (a.name == kEscrowAccountName) return a.id;
  }
  ASSIGN_OR_RETURN(auto created, accounts.CreateAccount(kEscrowAccountName, false));
  RETURN_IF_ERROR(accounts.RevokeAccessKey(created.account.id, created.access_key.key.id));
  return created.account.id;
}

}  // namespace

absl::Status App::Impl::CreateImageServices() {
  const std::string& data = config.data_dir;
  ImageRegistryOptions registry_options;
  registry_options.registry_host = fmt::format("{}:{}", config.host(), server->port());
  ASSIGN_OR_RETURN(images, ImageRegistry::Create(*store, *blobs, *clock, registry_options));
  ASSIGN_OR_RETURN(rootfs, RootfsCache::Create(*blobs, {.cache_dir = data + "/rootfs"}));

  sandbox::BwrapRuntime::Options runtime_options;
  runtime_options.state_dir = data + "/sandbox";
  runtime_options.clock = clock.get();
  auto bwrap = sandbox::BwrapRuntime::Create(std::move(runtime_options));
  std::string unavailable;
  if (bwrap.ok()) {
    runtime = std::move(*bwrap);
    ASSIGN_OR_RETURN(image_runner, jobs::ImageRunner::Create(
                                       {.runs_dir = data + "/runs", .logs_dir = data + "/logs"},
                                       *images, *rootfs, *runtime, *clock));
  } else {
    unavailable = std::string(bwrap.status().message());
    spdlog::error("container runtime unavailable, image runs disabled: {}", unavailable);
  }
  api::v1::AddImageRoutes(*v1, *images, image_runner.get(),
                          {.upload_dir = data + "/tmp/uploads",
                           .max_image_upload_bytes = registry_options.max_image_bytes},
                          unavailable);
  return absl::OkStatus();
}

absl::Status App::Impl::BuildMarketplace() {
  ASSIGN_OR_RETURN(std::string escrow_account, EnsureEscrowAccount(*accounts));
  objects = std::make_unique<storage::ObjectStore>(*store, *blobs, *clock);
  ASSIGN_OR_RETURN(marketplace,
                   Marketplace::Build({.config = config,
                                       .store = *store,
                                       .blobs = *blobs,
                                       .clock = *clock,
                                       .test_clock = test_clock,
                                       .master_key = master_key,
                                       .accounts = *accounts,
                                       .images = *images,
                                       .objects = *objects,
                                       .v1 = *v1,
                                       .sagemaker = hosting->sagemaker_api(),
                                       .hosting = hosting->hosting_service(),
                                       .training = hosting->training_runner(),
                                       .transform = hosting->transform_runner(),
                                       .escrow_account = escrow_account,
                                       .region = config.region,
                                       .removal_grace_days = config.removal_grace_days,
                                       .public_url = fmt::format(
                                           "{}://{}:{}", config.tls_cert.empty() ? "http" : "https",
                                           config.host(), server->port()),
                                       .marketplace_api = marketplace_api.get()}));
  // Billable inferences flow from the router to the meter (built after hosting).
  hosting->router().set_inference_observer(marketplace->context().hooks.inference_observer);
  if (marketplace->context().hooks.console_page) {
    dispatcher->SetConsolePages(marketplace->context().hooks.console_page);
  }
  return absl::OkStatus();
}

void App::Impl::MaintenanceLoop() {
  std::unique_lock<std::mutex> lock(mu);
  while (!stopping) {
    lock.unlock();
    auto collected = s3->CollectGarbage();
    if (!collected.ok()) spdlog::warn("blob garbage collection: {}", collected.status().ToString());
    lock.lock();
    cv.wait_for(lock, std::chrono::minutes(10), [this] { return stopping; });
  }
}

App::App(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

App::~App() {
  Shutdown();
  Wait();
}

absl::StatusOr<std::unique_ptr<App>> App::Create(const Config& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("cannot create data dir {}: {}", config.data_dir, ec.message()));
  }
  ::chmod(config.data_dir.c_str(), 0700);
  if (config.test_clock) {
    auto manual = std::make_unique<ManualClock>(absl::Now(), /*ticking=*/!config.frozen_clock);
    impl->test_clock = manual.get();
    impl->clock = std::move(manual);
  } else {
    impl->clock = std::make_unique<RealClock>();
  }
  ASSIGN_OR_RETURN(std::string master_key,
                   LoadOrCreateMasterKey(config.data_dir, config.master_key));
  impl->master_key = master_key;
  ASSIGN_OR_RETURN(impl->store, SqliteStore::Open({.path = config.data_dir + "/mercato.db"}));
  ASSIGN_OR_RETURN(impl->blobs, LocalBlobStore::Create({.root = config.data_dir + "/blobs",
                                                        .master_key = master_key}));
  impl->accounts = std::make_unique<auth::AccountService>(*impl->store, *impl->clock, master_key);
  // Signatures are checked against real time even under --test-clock: clients sign with
  // their own clock, and the test clock only moves business time (trials, grace, billing).
  impl->authenticator =
      std::make_unique<auth::Authenticator>(*impl->accounts, impl->signing_clock, config.region);
  RETURN_IF_ERROR(EnsureOperator(*impl->accounts, config.data_dir + "/admin-credentials"));

  impl->s3 =
      std::make_unique<api::s3::S3Api>(api::s3::S3Options{.region = config.region}, *impl->store,
                                       *impl->blobs, *impl->authenticator, *impl->clock);
  impl->v1 = std::make_unique<api::v1::V1Api>(*impl->accounts, *impl->authenticator);
  impl->dispatcher = std::make_unique<Dispatcher>(*impl->store, impl->metrics);
  Impl* raw = impl.get();
  impl->dispatcher->Set(
      ApiKind::kS3, [raw](http::Request& r, http::BodyReader& b) { return raw->s3->Handle(r, b); });
  impl->dispatcher->Set(ApiKind::kNative, [raw](http::Request& r, http::BodyReader& b) {
    return raw->v1->Handle(r, b);
  });
  impl->marketplace_api = std::make_unique<api::marketplace::MarketplaceApi>(*impl->authenticator);
  impl->dispatcher->Set(ApiKind::kMarketplace, [raw](http::Request& r, http::BodyReader& b) {
    return raw->marketplace_api->Handle(r, b);
  });

  http::ServerOptions opts;
  opts.host = config.host();
  opts.port = config.port();
  opts.io_threads = config.io_threads;
  opts.max_workers = config.max_workers;
  opts.tls_cert_file = config.tls_cert;
  opts.tls_key_file = config.tls_key;
  ASSIGN_OR_RETURN(impl->server, http::Server::Create(opts, *impl->dispatcher));
  RETURN_IF_ERROR(impl->CreateImageServices());
  ASSIGN_OR_RETURN(impl->hosting, HostingWiring::Build({.config = impl->config,
                                                        .store = *impl->store,
                                                        .blobs = *impl->blobs,
                                                        .clock = *impl->clock,
                                                        .authenticator = *impl->authenticator,
                                                        .metrics = impl->metrics,
                                                        .registry = impl->images.get(),
                                                        .rootfs = impl->rootfs.get(),
                                                        .runtime = impl->runtime.get(),
                                                        .v1 = impl->v1.get()},
                                                       *impl->dispatcher));
  RETURN_IF_ERROR(impl->BuildMarketplace());
  return std::unique_ptr<App>(new App(std::move(impl)));
}

uint16_t App::port() const { return impl_->server->port(); }

std::string App::admin_credentials_path() const {
  return impl_->config.data_dir + "/admin-credentials";
}

std::string App::url() const {
  return fmt::format("{}://{}:{}", impl_->config.tls_cert.empty() ? "http" : "https",
                     impl_->config.host(), port());
}

void App::Start() {
  impl_->server->Start();
  impl_->hosting->Start();
  impl_->marketplace->Start();
  impl_->maintenance = std::thread([this] { impl_->MaintenanceLoop(); });
}

void App::Shutdown() {
  if (impl_->shut_down.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->server->Shutdown();
  impl_->marketplace->Stop();
  impl_->hosting->Stop();
}

void App::Wait() {
  impl_->server->Wait();
  if (impl_->maintenance.joinable()) impl_->maintenance.join();
}

}  // namespace mercato::server
