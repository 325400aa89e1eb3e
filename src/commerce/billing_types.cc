#include "commerce/billing_types.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"
#include "catalog/offer.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

absl::Status Invalid(std::string_view code, std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, code, message);
}

// USD with 6 decimals, negatives included ("-0.500000").
std::string Usd(int64_t micros) {
  std::string sign = micros < 0 ? "-" : "";
  uint64_t m = micros < 0 ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  return fmt::format("{}{}.{:06d}", sign, m / 1'000'000, m % 1'000'000);
}

void Money(Json& j, const char* field, int64_t micros) {
  j[field] = Usd(micros);
  j[std::string(field) + "Micros"] = micros;
}

std::string Iso(int64_t micros) { return FormatIso8601(absl::FromUnixMicros(micros)); }

}  // namespace

int64_t LineAmount(int64_t quantity, int64_t unit_price, std::string_view unit) {
  __int128 divisor = unit == kUnitSeconds ? 3600 : 1;
  __int128 product = static_cast<__int128>(quantity) * unit_price;
  return static_cast<int64_t>((product + divisor / 2) / divisor);
}

int64_t ApplyPpm(int64_t amount, int64_t ppm) {
  return static_cast<int64_t>((static_cast<__int128>(amount) * ppm + kPpm / 2) / kPpm);
}

absl::StatusOr<MonthRange> ParseMonth(std::string_view month) {
  auto bad = [&] {
    return Invalid("InvalidMonth",
                   fmt::format("month \"{}\" is not a UTC calendar month YYYY-MM", month));
  };
  if (month.size() != 7 || month[4] != '-') return bad();
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (month[i] < '0' || month[i] > '9') return bad();
  }
  int year = std::stoi(std::string(month.substr(0, 4)));
  int mon = std::stoi(std::string(month.substr(5, 2)));
  if (year < 1970 || mon < 1 || mon > 12) return bad();
  absl::CivilMonth m(year, mon);
  MonthRange r;
  r.month = std::string(month);
  r.start = absl::ToUnixMicros(absl::FromCivil(m, absl::UTCTimeZone()));
  r.end = absl::ToUnixMicros(absl::FromCivil(m + 1, absl::UTCTimeZone()));
  return r;
}

MonthRange MonthOf(int64_t micros) {
  absl::CivilMonth m(absl::ToCivilSecond(absl::FromUnixMicros(micros), absl::UTCTimeZone()));
  return *ParseMonth(fmt::format("{:04d}-{:02d}", m.year(), m.month()));
}

absl::StatusOr<int64_t> ParseRatePpm(const Json& value, std::string_view field) {
  // A rate with 6 decimals has the same digits as micro-USD: reuse the strict parser.
  ASSIGN_OR_RETURN(int64_t ppm, catalog::ParseUsdMicros(value, field));
  if (ppm > kPpm) {
    return Invalid("ValidationError", fmt::format("{}: a rate is at most 1 (100 %)", field));
  }
  return ppm;
}

absl::StatusOr<int64_t> ParsePercentPpm(const Json& value, std::string_view field) {
  if (!value.is_string()) {
    return Invalid("ValidationError",
                   fmt::format("{}: a percentage is a decimal string such as \"15\"", field));
  }
  ASSIGN_OR_RETURN(int64_t micros, catalog::ParseUsdMicros(value, field));
  if (micros % 100 != 0) {
    return Invalid("ValidationError", fmt::format("{}: at most 4 decimals", field));
  }
  if (micros > 100'000'000) {
    return Invalid("ValidationError", fmt::format("{}: a percentage is at most 100", field));
  }
  return micros / 100;
}

std::string FormatRate(int64_t ppm) { return Usd(ppm); }
std::string FormatPercent(int64_t ppm) {
  return fmt::format("{}.{:04d}", ppm / 10'000, ppm % 10'000);
}

Json InvoiceJson(const Invoice& inv, bool with_lines) {
  Json j{{"InvoiceId", inv.id},
         {"Kind", inv.kind},
         {"BuyerAccount", inv.buyer_account},
         {"Month", inv.month},
         {"RefersTo", inv.refers_to},
         {"Reason", inv.reason},
         {"IssuedAt", Iso(inv.issued_at)},
         {"TaxCountry", inv.tax_country},
         {"TaxState", inv.tax_state},
         {"TaxRate", FormatRate(inv.tax_rate_ppm)},
         {"Currency", "USD"}};
  Money(j, "SoftwareSubtotal", inv.software_subtotal);
  Money(j, "InfrastructureSubtotal", inv.infrastructure_subtotal);
  Money(j, "Tax", inv.tax);
  Money(j, "Total", inv.total);
  if (!with_lines) return j;
  Json lines = Json::array();
  for (const InvoiceLine& l : inv.lines) {
    Json line{{"LineNo", l.line_no},
              {"Kind", l.kind},
              {"ProductId", l.product_id},
              {"SellerAccount", l.seller_account},
              {"SubscriptionId", l.subscription_id},
              {"Use", l.use},
              {"InstanceType", l.instance_type},
              {"Pricing", l.pricing},
              {"Quantity", l.quantity},
              {"Unit", l.unit}};
    Money(line, "UnitPrice", l.unit_price);
    Money(line, "Amount", l.amount);
    lines.push_back(std::move(line));
  }
  j["Lines"] = std::move(lines);
  return j;
}

Json DisbursementJson(const Disbursement& d) {
  Json j{{"DisbursementId", d.id},
         {"SellerAccount", d.seller_account},
         {"Month", d.month},
         {"CreatedAt", Iso(d.created_at)},
         {"Currency", "USD"}};
  Money(j, "SoftwareRevenue", d.software_revenue);
  Money(j, "ListingFee", d.listing_fee);
  Money(j, "Refunds", d.refunds);
  Money(j, "TaxCollected", d.tax_collected);
  Money(j, "Amount", d.amount);
  return j;
}

}  // namespace mercato::commerce
