// The marketplace services' JSON 1.1 facade: POST / with `X-Amz-Target: <Service>.<Action>`
// (e.g. MarketplaceCommerceAnalytics20150701.GenerateDataSet), body
// application/x-amz-json-1.1, SigV4 verified against the hash of the buffered body. The
// dispatcher (server/dispatcher.h, ApiKind::kMarketplace) hands it every request with an
// X-Amz-Target it does not route elsewhere. Actions are registered by their full target, so
// each part adds its own service's actions.
//
// Errors are {"__type": code, "message": ...} plus the x-amzn-ErrorType header, as botocore
// parses them. Authentication failures use the JSON protocols' codes (403); an unknown
// target is UnknownOperationException (400). Any other failure of an action is reported
// with the service's modeled exception (AddService; for Commerce Analytics
// MarketplaceCommerceAnalyticsException): HTTP 400 for caller errors, 403 for permission
// errors, 500 otherwise; the message keeps the detail (e.g. "AccessDenied: ...").
// Thread-safe once actions are registered; borrows the authenticator.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "auth/authenticator.h"
#include "base/json.h"
#include "http/message.h"

namespace mercato::api::marketplace {

using ActionFn = std::function<absl::StatusOr<Json>(const auth::Principal&, const Json& input)>;

class MarketplaceApi {
 public:
  explicit MarketplaceApi(auth::Authenticator& authenticator) : authenticator_(authenticator) {}
  // Declares a service by its target prefix (e.g. "MarketplaceCommerceAnalytics20150701")
  // and the exception code its action errors are reported with. Call before serving.
  void AddService(std::string target_prefix, std::string error_code);
  // Registers `target` ("<prefix>.<Action>"); call before serving.
  void AddAction(std::string target, ActionFn fn);
  http::Response Handle(http::Request& request, http::BodyReader& body);

 private:
  auth::Authenticator& authenticator_;
  std::map<std::string, std::string, std::less<>> services_;  // prefix → error code
  std::map<std::string, ActionFn, std::less<>> actions_;
};

}  // namespace mercato::api::marketplace
