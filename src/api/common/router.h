// A small path router for the native REST API: routes like "GET /api/v1/keys/{id}" map to
// handler functions receiving the captured parameters. Routes are added at start-up, then
// Match() is called concurrently (read-only, thread-safe).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mercato::api {

using PathParams = std::map<std::string, std::string>;

template <typename Fn>
class Router {
 public:
  // pattern: "/api/v1/keys/{id}"; each {name} captures one non-empty path segment.
  void Add(std::string method, std::string_view pattern, Fn fn) {
    routes_.push_back({std::move(method), Split(pattern), std::move(fn)});
  }

  struct Match {
    const Fn* fn = nullptr;
    PathParams params;
    bool path_matched = false;  // some route matched the path with another method
  };

  Match Find(std::string_view method, std::string_view path) const {
    Match m;
    std::vector<std::string> segs = Split(path);
    for (const auto& r : routes_) {
      PathParams params;
      if (!MatchSegments(r.segments, segs, &params)) continue;
      if (r.method != method) {
        m.path_matched = true;
        continue;
      }
      m.fn = &r.fn;
      m.params = std::move(params);
      return m;
    }
    return m;
  }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Fn fn;
  };

  static std::vector<std::string> Split(std::string_view path) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string_view::npos) end = path.size();
      if (end > start) out.emplace_back(path.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }

  static bool MatchSegments(const std::vector<std::string>& pattern,
                            const std::vector<std::string>& segs, PathParams* params) {
    if (pattern.size() != segs.size()) return false;
    for (size_t i = 0; i < pattern.size(); ++i) {
      const std::string& p = pattern[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        (*params)[p.substr(1, p.size() - 2)] = segs[i];
      } else if (p != segs[i]) {
        return false;
      }
    }
    return true;
  }

  std::vector<Route> routes_;
};

}  // namespace mercato::api
