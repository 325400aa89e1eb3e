#include "store/metadata_store.h"

#include <cstdlib>

#include "fmt/format.h"

namespace mercato {

std::string SqlRow::Text(size_t i) const {
  const SqlValue& v = values_[i];
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "";
}

int64_t SqlRow::Int(size_t i) const {
  const SqlValue& v = values_[i];
  if (auto* n = std::get_if<int64_t>(&v)) return *n;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) return std::strtoll(s->c_str(), nullptr, 10);
  return 0;
}

double SqlRow::Double(size_t i) const {
  const SqlValue& v = values_[i];
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (auto* s = std::get_if<std::string>(&v)) return std::strtod(s->c_str(), nullptr);
  return 0;
}

}  // namespace mercato
