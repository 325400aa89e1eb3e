#include "commerce/seller_validation.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "base/errors.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

// ISO 3166-1 alpha-2, the officially assigned codes (249).
constexpr std::string_view kCountries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP "
    "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ OM "
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ "
    "VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

// USPS codes: the 50 states, DC, the territories, the freely associated states and the
// military "states" (AA, AE, AP).
constexpr std::string_view kUspsStates =
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY "
    "DC AS GU MP PR VI FM MH PW AA AE AP";

bool InList(std::string_view list, std::string_view code) {
  if (code.size() != 2) return false;
  for (size_t i = 0; i + 2 <= list.size(); i += 3) {
    if (list.substr(i, 2) == code) return true;
  }
  return false;
}

absl::Status Invalid(std::string_view code, std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, code, message);
}

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

bool IsIsoCountryCode(std::string_view code) { return InList(kCountries, code); }
bool IsUspsStateCode(std::string_view code) { return InList(kUspsStates, code); }

bool IsAbaRoutingNumber(std::string_view d) {
  if (d.size() != 9 || !AllDigits(d)) return false;
  auto n = [&](size_t i) { return d[i] - '0'; };
  int sum = 3 * (n(0) + n(3) + n(6)) + 7 * (n(1) + n(4) + n(7)) + (n(2) + n(5) + n(8));
  return sum % 10 == 0;
}

absl::Status ValidateLegalName(std::string_view name) {
  bool blank =
      std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isspace(c); });
  if (name.empty() || blank || name.size() > 200) {
    return Invalid("InvalidLegalName", "legal name must be 1-200 characters and not blank");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f)
      return Invalid("InvalidLegalName", "legal name has a control character");
  }
  return absl::OkStatus();
}

absl::Status ValidateEmail(std::string_view email) {
  auto bad = [&] {
    return Invalid(
        "InvalidEmail",
        fmt::format("\"{}\" is not an e-mail address (expected name@domain.tld)", email));
  };
  if (email.size() < 6 || email.size() > 254) return bad();
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return bad();
  }
  std::string_view local = email.substr(0, at), domain = email.substr(at + 1);
  if (local.size() > 64) return bad();
  for (unsigned char c : email) {
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        c == '(' || c == ')' || c == '[' || c == ']' || c == '\\') {
      return bad();
    }
  }
  size_t dot = domain.rfind('.');
  bool tld_ok = dot != std::string_view::npos && dot > 0 && domain.size() - dot - 1 >= 2;
  if (!tld_ok || domain.front() == '-' || domain.find("..") != std::string_view::npos ||
      local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return bad();
  }
  for (unsigned char c : domain) {
    if (!std::isalnum(c) && c != '-' && c != '.') return bad();
  }
  return absl::OkStatus();
}

absl::Status ValidateCountryAndState(std::string_view country, std::string_view state) {
  if (!IsIsoCountryCode(country)) {
    return Invalid(
        "InvalidCountry",
        fmt::format("\"{}\" is not an ISO 3166-1 alpha-2 country code (e.g. US, DE, JP)", country));
  }
  if (country == "US") {
    if (state.empty()) {
      return Invalid("InvalidState", "state is required for the US (a USPS code such as CA or NY)");
    }
    if (!IsUspsStateCode(state)) {
      return Invalid("InvalidState",
                     fmt::format("\"{}\" is not a USPS state code (e.g. CA, NY, DC)", state));
    }
  } else if (state.size() > 64) {
    return Invalid("InvalidState", "state must be at most 64 characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateBankAccount(std::string_view account) {
  bool alnum =
      std::all_of(account.begin(), account.end(), [](unsigned char c) { return std::isalnum(c); });
  if (account.size() < 4 || account.size() > 34 || !alnum) {
    return Invalid("InvalidBankAccount",
                   "bank account must be 4-34 letters and digits (no spaces or dashes)");
  }
  return absl::OkStatus();
}

absl::Status ValidateBankRouting(std::string_view routing, std::string_view country) {
  if (routing.size() != 9 || !AllDigits(routing)) {
    return Invalid("InvalidBankRouting", "bank routing number must be exactly 9 digits");
  }
  if (country == "US" && !IsAbaRoutingNumber(routing)) {
    return Invalid("InvalidBankRouting",
                   "bank routing number fails the ABA checksum (check the 9 digits)");
  }
  return absl::OkStatus();
}

std::string MaskSecret(std::string_view secret) {
  if (secret.size() < 8) return std::string(secret.size() < 4 ? 4 : secret.size(), '*');
  return "****" + std::string(secret.substr(secret.size() - 4));
}

}  // namespace mercato::commerce
