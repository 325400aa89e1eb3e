#include "api/v1/image_routes.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "api/common/errors.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"
#include "fmt/format.h"
#include "jobs/instance_http.h"

namespace mercato::api::v1 {
namespace fs = std::filesystem;
namespace {

absl::Status Validation(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

absl::Status TooLarge(uint64_t limit) {
  return AwsError(
      absl::StatusCode::kResourceExhausted, "EntityTooLarge",
      fmt::format("the upload exceeds the maximum size of {} bytes ({} MiB)", limit, limit >> 20));
}

// NativeError, except that an oversize upload is 413 rather than 429.
http::Response ErrorResponse(const absl::Status& status) {
  http::Response r = NativeError(status);
  if (ErrorCodeFor(status) == "EntityTooLarge") r.status = 413;
  return r;
}

absl::StatusOr<std::string> RequiredQuery(const http::Request& r, const char* name) {
  std::optional<std::string> v = r.QueryParam(name);
  if (!v || v->empty()) {
    return Validation(fmt::format("missing required query parameter '{}'", name));
  }
  return *v;
}

// Removes a temporary file or directory when it goes out of scope.
struct TempPath {
  std::string path;
  ~TempPath() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// Streams the request body into `path`, refusing more than `limit` bytes.
absl::Status StreamBodyToFile(http::BodyReader& body, const std::string& path, uint64_t limit) {
  if (auto length = body.content_length(); length && *length > limit) return TooLarge(limit);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(fmt::format("cannot create {}", path));
  std::unique_ptr<char[]> buf(new char[256 * 1024]);
  uint64_t total = 0;
  absl::Status status;
  for (;;) {
    absl::StatusOr<size_t> n = body.Read(buf.get(), 256 * 1024);
    if (!n.ok()) {
      status = n.status();
      break;
    }
    if (*n == 0) break;
    total += *n;
    if (total > limit) {
      status = TooLarge(limit);
      break;
    }
    if (::write(fd, buf.get(), *n) != static_cast<ssize_t>(*n)) {
      status = absl::InternalError(fmt::format("cannot write {}", path));
      break;
    }
  }
  ::close(fd);
  if (status.ok() && total == 0) status = Validation("the request body is empty");
  return status;
}

class FileBodySource final : public http::BodySource {
 public:
  static absl::StatusOr<http::BodySourcePtr> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::InternalError(fmt::format("cannot open {}", path));
    std::error_code ec;
    uint64_t size = fs::file_size(path, ec);
    return http::BodySourcePtr(new FileBodySource(fd, size));
  }
  ~FileBodySource() override { ::close(fd_); }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    ssize_t got = ::read(fd_, buf, n);
    if (got < 0) return absl::InternalError("read error");
    return static_cast<size_t>(got);
  }
  std::optional<uint64_t> size() const override { return size_; }

 private:
  FileBodySource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  uint64_t size_;
};

http::Response JsonResponse(int status, const Json& j) {
  return http::Response::Json(status, j.dump());
}

Json PushJson(const PushResult& p, std::string_view name) {
  return {{"image_uri", p.image_uri},
          {"digest", p.digest},
          {"size_bytes", p.size_bytes},
          {"scan_status", p.scan_status},
          {"name", std::string(name)}};
}

void AddImageCatalogRoutes(V1Api& api, ImageRegistry& registry, const ImageRouteOptions& opts) {
  api.AddStreamingRoute(
      "POST", "/api/v1/images",
      [&registry, opts](const StreamingCall& c) -> absl::StatusOr<http::Response> {
        ASSIGN_OR_RETURN(std::string name, RequiredQuery(c.request, "name"));
        // Fails a bad name before a possibly huge body is read.
        ASSIGN_OR_RETURN(ImageReference ref, ParseImageReference(name, c.principal.account_id));
        if (ref.tag.empty()) return Validation("push needs name=REPO:TAG");
        std::error_code ec;
        fs::create_directories(opts.upload_dir, ec);
        TempPath tmp{opts.upload_dir + "/push-" + RandomHex(8) + ".tar"};
        absl::Status s = StreamBodyToFile(c.body, tmp.path, opts.max_image_upload_bytes);
        if (!s.ok()) return ErrorResponse(s);
        ASSIGN_OR_RETURN(PushResult pushed, registry.Push(c.principal.account_id, tmp.path, name));
        return JsonResponse(201, PushJson(pushed, name));
      });
  api.AddRoute("GET", "/api/v1/images", [&registry](const Call& c) -> absl::StatusOr<Reply> {
    if (auto ref = c.request.QueryParam("ref"); ref && !ref->empty()) {
      ASSIGN_OR_RETURN(ImageRecord image, registry.Describe(c.principal.account_id, *ref));
      return Reply{200, image.ToJson()};
    }
    std::string repository = c.request.QueryParam("repository").value_or("");
    ASSIGN_OR_RETURN(auto images, registry.List(c.principal.account_id, repository));
    Json list = Json::array();
    for (const auto& image : images) {
      Json j = image.ToJson();
      j.erase("scan_report");  // large; the describe and scan-report calls return it
      list.push_back(std::move(j));
    }
    return Reply{200, {{"images", list}}};
  });
  api.AddRoute(
      "GET", "/api/v1/images/scan-report", [&registry](const Call& c) -> absl::StatusOr<Reply> {
        ASSIGN_OR_RETURN(std::string ref, RequiredQuery(c.request, "ref"));
        ASSIGN_OR_RETURN(ImageRecord image, registry.Describe(c.principal.account_id, ref));
        return Reply{200,
                     {{"image_uri", image.image_uri},
                      {"digest", image.digest},
                      {"scan_status", image.scan_status},
                      {"scan_report", image.scan_report}}};
      });
  api.AddRoute("POST", "/api/v1/images/tags", [&registry](const Call& c) -> absl::StatusOr<Reply> {
    if (!c.body.is_object() || !c.body.contains("source") || !c.body["source"].is_string() ||
        !c.body.contains("target") || !c.body["target"].is_string()) {
      return Validation("the body must be {\"source\": REF, \"target\": \"REPO:TAG\"}");
    }
    std::string source = c.body["source"].get<std::string>();
    std::string target = c.body["target"].get<std::string>();
    RETURN_IF_ERROR(registry.Tag(c.principal.account_id, source, target));
    ASSIGN_OR_RETURN(ImageRecord image, registry.Describe(c.principal.account_id, target));
    Json j = image.ToJson();
    j["image_uri"] = registry.ImageUri(c.principal.account_id, image.repository,
                                       ParseImageReference(target)->tag);
    return Reply{200, j};
  });
  api.AddRoute("DELETE", "/api/v1/images", [&registry](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(std::string ref, RequiredQuery(c.request, "ref"));
    RETURN_IF_ERROR(registry.Delete(c.principal.account_id, ref));
    return Reply{200, {{"deleted", ref}}};
  });
}

Json LogsJson(const jobs::LogChunk& chunk, const std::string& state) {
  Json lines = Json::array();
  for (const auto& e : chunk.lines) {
    lines.push_back(
        {{"time", FormatIso8601Millis(e.time)}, {"stream", e.stream}, {"message", e.message}});
  }
  return {{"lines", lines}, {"next_line", chunk.next_line}, {"done", chunk.done}, {"state", state}};
}

// PUT handlers for model data and channels: stream to a temporary file, then extract.
using PutFn = std::function<absl::Status(const StreamingCall&, const std::string& path)>;
StreamingRouteFn UploadRoute(jobs::ImageRunner& runner, uint64_t limit, PutFn put) {
  return [&runner, limit, put](const StreamingCall& c) -> absl::StatusOr<http::Response> {
    // NotFound before a possibly large body is read.
    ASSIGN_OR_RETURN(jobs::ImageRunInfo info,
                     runner.Get(c.principal.account_id, c.params.at("id")));
    ASSIGN_OR_RETURN(std::string dir, runner.MakeUploadDir());
    TempPath tmp{dir};
    absl::Status s = StreamBodyToFile(c.body, dir + "/upload", limit);
    if (!s.ok()) return ErrorResponse(s);
    RETURN_IF_ERROR(put(c, dir + "/upload"));
    ASSIGN_OR_RETURN(info, runner.Get(c.principal.account_id, c.params.at("id")));
    return JsonResponse(200, info.ToJson());
  };
}

absl::StatusOr<http::Response> ForwardToInstance(jobs::ImageRunner& runner,
                                                 const ImageRouteOptions& opts,
                                                 const StreamingCall& c) {
  const std::string& id = c.params.at("id");
  ASSIGN_OR_RETURN(std::string body, c.body.ReadAll(opts.max_forward_body_bytes));
  ASSIGN_OR_RETURN(int fd, runner.Dial(c.principal.account_id, id, 8080, absl::Seconds(2)));
  // The raw (still encoded) rest of the path goes to the container unchanged.
  std::string prefix = "/api/v1/image-runs/" + id + "/http";
  std::string target = c.request.raw_path.size() > prefix.size()
                           ? c.request.raw_path.substr(prefix.size())
                           : std::string("/");
  if (!c.request.raw_query.empty()) target += "?" + c.request.raw_query;
  jobs::InstanceHttpRequest req{c.request.method, target, {}, std::move(body)};
  for (const char* h : {"content-type", "accept", "x-amzn-sagemaker-custom-attributes"}) {
    if (c.request.HasHeader(h)) req.headers.emplace_back(h, std::string(c.request.Header(h)));
  }
  return jobs::ExchangeOverFd(fd, req, opts.forward_timeout, opts.max_forward_body_bytes);
}

void AddImageRunRoutes(V1Api& api, jobs::ImageRunner& runner, const ImageRouteOptions& opts) {
  api.AddRoute("POST", "/api/v1/image-runs", [&runner](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(jobs::ImageRunSpec spec, jobs::ImageRunSpec::FromJson(c.body));
    ASSIGN_OR_RETURN(jobs::ImageRunInfo info, runner.CreateRun(c.principal.account_id, spec));
    return Reply{201, info.ToJson()};
  });
  api.AddRoute("GET", "/api/v1/image-runs", [&runner](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(auto runs, runner.List(c.principal.account_id));
    Json list = Json::array();
    for (const auto& r : runs) list.push_back(r.ToJson());
    return Reply{200, {{"image_runs", list}}};
  });
  api.AddRoute("GET", "/api/v1/image-runs/{id}", [&runner](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(auto info, runner.Get(c.principal.account_id, c.params.at("id")));
    return Reply{200, info.ToJson()};
  });
  api.AddRoute(
      "POST", "/api/v1/image-runs/{id}/start", [&runner](const Call& c) -> absl::StatusOr<Reply> {
        ASSIGN_OR_RETURN(auto info, runner.Start(c.principal.account_id, c.params.at("id")));
        return Reply{200, info.ToJson()};
      });
  api.AddRoute(
      "POST", "/api/v1/image-runs/{id}/stop", [&runner](const Call& c) -> absl::StatusOr<Reply> {
        ASSIGN_OR_RETURN(auto info, runner.Stop(c.principal.account_id, c.params.at("id")));
        return Reply{200, info.ToJson()};
      });
  api.AddRoute("GET", "/api/v1/image-runs/{id}/logs",
               [&runner](const Call& c) -> absl::StatusOr<Reply> {
                 int64_t since = 0;
                 if (auto v = c.request.QueryParam("since_line"); v && !v->empty()) {
                   char* end = nullptr;
                   since = std::strtoll(v->c_str(), &end, 10);
                   if (*end != '\0' || since < 0) {
                     return Validation("since_line must be a non-negative integer");
                   }
                 }
                 const std::string& id = c.params.at("id");
                 ASSIGN_OR_RETURN(auto chunk, runner.Logs(c.principal.account_id, id, since));
                 ASSIGN_OR_RETURN(auto info, runner.Get(c.principal.account_id, id));
                 return Reply{200, LogsJson(chunk, info.state)};
               });
  api.AddStreamingRoute("GET", "/api/v1/image-runs/{id}/model",
                        [&runner](const StreamingCall& c) -> absl::StatusOr<http::Response> {
                          ASSIGN_OR_RETURN(
                              std::string path,
                              runner.ModelArchive(c.principal.account_id, c.params.at("id")));
                          http::Response r;
                          ASSIGN_OR_RETURN(r.stream, FileBodySource::Open(path));
                          r.SetHeader("Content-Type", "application/gzip");
                          r.SetHeader("Content-Disposition", "attachment; filename=model.tar.gz");
                          return r;
                        });
  api.AddStreamingRoute("PUT", "/api/v1/image-runs/{id}/model-data",
                        UploadRoute(runner, opts.max_run_upload_bytes,
                                    [&runner](const StreamingCall& c, const std::string& path) {
                                      return runner.PutModelData(c.principal.account_id,
                                                                 c.params.at("id"), path);
                                    }));
  api.AddStreamingRoute("PUT", "/api/v1/image-runs/{id}/input/{channel}",
                        UploadRoute(runner, opts.max_run_upload_bytes,
                                    [&runner](const StreamingCall& c, const std::string& path) {
                                      return runner.PutChannel(c.principal.account_id,
                                                               c.params.at("id"),
                                                               c.params.at("channel"), path);
                                    }));
  api.AddStreamingRoute(
      "*", "/api/v1/image-runs/{id}/http/{path...}",
      [&runner, opts](const StreamingCall& c) { return ForwardToInstance(runner, opts, c); });
}

}  // namespace

void AddImageRoutes(V1Api& api, ImageRegistry& registry, jobs::ImageRunner* runner,
                    const ImageRouteOptions& options,
                    const std::string& runner_unavailable_reason) {
  AddImageCatalogRoutes(api, registry, options);
  if (runner != nullptr) return AddImageRunRoutes(api, *runner, options);
  absl::Status unavailable =
      AwsError(absl::StatusCode::kUnavailable, "ServiceUnavailable",
               "image runs are unavailable: no usable container runtime on this host (" +
                   runner_unavailable_reason + ")");
  api.AddStreamingRoute("*", "/api/v1/image-runs/{rest...}",
                        [unavailable](const StreamingCall&) -> absl::StatusOr<http::Response> {
                          return unavailable;
                        });
}

}  // namespace mercato::api::v1
