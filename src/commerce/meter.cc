#include "commerce/meter.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "base/ids.h"
#include "base/status.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace mercato::commerce {
namespace {

constexpr int64_t kHourMicros = int64_t{3600} * 1'000'000;

struct Source {
  const char* table;
  const char* use;
};
constexpr Source kSources[] = {{"endpoint_instances", "Endpoint"},
                               {"transform_job_instances", "Transform"},
                               {"training_job_instances", "Training"}};

// Who a use is billed to beyond the buyer: all '' for infrastructure-only use.
struct Attribution {
  std::string subscription_id;
  std::string seller_account;
  std::string product_id;
  auto operator<=>(const Attribution&) const = default;
};

std::vector<std::string> ProductIds(const Json& ids) {
  std::vector<std::string> out;
  if (!ids.is_array()) return out;
  for (const Json& id : ids) {
    if (id.is_string() && !id.get<std::string>().empty()) out.push_back(id.get<std::string>());
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The writes of one tick, inside its transaction.
class TickWriter {
 public:
  TickWriter(Transaction& tx, int64_t now, TickResult& result)
      : tx_(tx), now_(now), result_(result) {}

  // The distinct attributions of a use by `account` of `products`.
  absl::StatusOr<std::vector<Attribution>> Attribute(const std::string& account,
                                                     const std::vector<std::string>& products) {
    std::set<Attribution> out;
    if (products.empty()) out.insert(Attribution{});
    for (const std::string& product : products) {
      auto key = std::make_pair(account, product);
      auto it = cache_.find(key);
      if (it == cache_.end()) {
        ASSIGN_OR_RETURN(SqlRows rows,
                         tx_.Query("SELECT id, seller_account FROM subscriptions WHERE account_id"
                                   " = ? AND product_id = ? AND status = 'Active'"
                                   " ORDER BY created_at DESC LIMIT 1",
                                   {account, product}));
        Attribution a;
        if (rows.empty()) {
          spdlog::warn(
              "metering: account {} uses product {} without an active subscription;"
              " metered as infrastructure only",
              account, product);
        } else {
          a = Attribution{rows[0].Text(0), rows[0].Text(1), product};
        }
        it = cache_.emplace(key, std::move(a)).first;
      }
      out.insert(it->second);
    }
    return std::vector<Attribution>(out.begin(), out.end());
  }

  absl::Status Add(const Attribution& a, const std::string& buyer, const std::string& arn,
                   std::string_view use, const std::string& instance_type, int64_t hour,
                   int64_t quantity) {
    if (quantity == 0) return absl::OkStatus();
    RETURN_IF_ERROR(
        tx_.Exec("INSERT INTO usage_records (buyer_account, subscription_id, product_id,"
                 " seller_account, resource_arn, use, instance_type, hour, quantity, updated_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (buyer_account,"
                 " subscription_id, resource_arn, use, instance_type, hour) DO UPDATE SET"
                 " quantity = usage_records.quantity + excluded.quantity,"
                 " updated_at = excluded.updated_at",
                 {buyer, a.subscription_id, a.product_id, a.seller_account, arn, std::string(use),
                  instance_type, hour, quantity, now_})
            .status());
    ++result_.records;
    return absl::OkStatus();
  }

  // Adds [from, to) (or, when to < from, gives back [to, from)) split at UTC hours.
  absl::Status Accrue(const std::vector<Attribution>& attributions, const std::string& buyer,
                      const std::string& arn, std::string_view use,
                      const std::string& instance_type, int64_t from, int64_t to) {
    int64_t sign = to >= from ? 1 : -1;
    int64_t t = std::min(from, to), end = std::max(from, to);
    while (t < end) {
      int64_t hour = HourStart(t);
      int64_t next = std::min(hour + kHourMicros, end);
      for (const Attribution& a : attributions) {
        RETURN_IF_ERROR(Add(a, buyer, arn, use, instance_type, hour, sign * (next - t)));
      }
      t = next;
    }
    return absl::OkStatus();
  }

  absl::Status MeterInstances(const Source& src) {
    ASSIGN_OR_RETURN(
        SqlRows rows,
        tx_.Query(fmt::format("SELECT i.instance_id, i.account_id, i.instance_type, i.started_at,"
                              " i.stopped_at, i.product_ids, i.resource_arn, c.metered_until"
                              " FROM {} i LEFT JOIN meter_cursors c ON c.source = ? AND"
                              " c.instance_id = i.instance_id WHERE c.instance_id IS NULL OR"
                              " i.stopped_at IS NULL OR c.metered_until <> i.stopped_at",
                              src.table),
                  {std::string(src.table)}));
    for (const SqlRow& r : rows) {
      std::string id = r.Text(0), account = r.Text(1), type = r.Text(2);
      int64_t started = r.Int(3);
      bool open = r.IsNull(4);
      int64_t from = r.IsNull(7) ? started : r.Int(7);
      int64_t to = open ? std::max(now_, from) : std::max(r.Int(4), started);
      if (from == to && !r.IsNull(7)) continue;
      Json ids = ParseJson(r.Text(5)).value_or(Json::array());
      ASSIGN_OR_RETURN(std::vector<Attribution> attributions, Attribute(account, ProductIds(ids)));
      RETURN_IF_ERROR(Accrue(attributions, account, r.Text(6), src.use, type, from, to));
      RETURN_IF_ERROR(tx_.Exec("INSERT INTO meter_cursors (source, instance_id, metered_until)"
                               " VALUES (?, ?, ?) ON CONFLICT (source, instance_id) DO UPDATE"
                               " SET metered_until = excluded.metered_until",
                               {std::string(src.table), id, to})
                          .status());
      ++result_.instances;
    }
    return absl::OkStatus();
  }

  absl::Status MarkThrough() {
    return tx_
        .Exec(
            "INSERT INTO meter_state (name, value) VALUES ('metered_through', ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            {now_})
        .status();
  }

 private:
  Transaction& tx_;
  int64_t now_;
  TickResult& result_;
  std::map<std::pair<std::string, std::string>, Attribution> cache_;
};

}  // namespace

int64_t HourStart(int64_t micros) {
  int64_t h = micros / kHourMicros;
  if (micros < 0 && micros % kHourMicros != 0) --h;
  return h * kHourMicros;
}

Meter::Meter(MetadataStore& store, const Clock& clock, MeterOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      inferences_on_(options_.meter_inferences) {}

Meter::~Meter() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int> Meter::Recover(MetadataStore& store) {
  ASSIGN_OR_RETURN(TransactionPtr tx, store.Begin());
  int closed = 0;
  for (const Source& src : kSources) {
    ASSIGN_OR_RETURN(int64_t n,
                     tx->Exec(fmt::format("UPDATE {0} SET stopped_at = COALESCE((SELECT"
                                          " c.metered_until FROM meter_cursors c WHERE c.source ="
                                          " ? AND c.instance_id = {0}.instance_id), started_at)"
                                          " WHERE stopped_at IS NULL",
                                          src.table),
                              {std::string(src.table)}));
    closed += static_cast<int>(n);
  }
  RETURN_IF_ERROR(tx->Commit());
  if (closed > 0) {
    spdlog::info(
        "metering: closed {} instance(s) left open by the previous process at their"
        " last metered instant",
        closed);
  }
  return closed;
}

absl::StatusOr<TickResult> Meter::TickOnce(Pending& pending) {
  TickResult result;
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  // Read the clock with the write lock held, so a stop committed before us is seen.
  int64_t now = absl::ToUnixMicros(clock_.Now());
  TickWriter w(*tx, now, result);
  for (const Source& src : kSources) RETURN_IF_ERROR(w.MeterInstances(src));
  for (const auto& [key, units] : pending) {
    const auto& [account, endpoint, products, hour] = key;
    std::vector<std::string> ids;
    for (size_t b = 0; b < products.size();) {
      size_t e = std::min(products.find(',', b), products.size());
      ids.push_back(products.substr(b, e - b));
      b = e + 1;
    }
    ASSIGN_OR_RETURN(std::vector<Attribution> attributions, w.Attribute(account, ids));
    std::string arn = MakeArn("sagemaker", options_.region, account, "endpoint", Lower(endpoint));
    for (const Attribution& a : attributions) {
      RETURN_IF_ERROR(w.Add(a, account, arn, "Inference", "", hour, units));
    }
    result.inferences += units;
  }
  RETURN_IF_ERROR(w.MarkThrough());
  RETURN_IF_ERROR(tx->Commit());
  return result;
}

absl::StatusOr<TickResult> Meter::Tick() {
  std::lock_guard<std::mutex> tick_lock(tick_mu_);
  Pending pending;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    pending.swap(pending_);
  }
  absl::StatusOr<TickResult> r = TickOnce(pending);
  if (!r.ok() && !pending.empty()) {
    // Nothing was written: keep the counts for the next tick.
    std::lock_guard<std::mutex> lock(pending_mu_);
    for (const auto& [key, units] : pending) pending_[key] += units;
  }
  return r;
}

void Meter::Start() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Meter::Stop() {
  bool was_running;
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    was_running = thread_.joinable() && !stopping_;
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!was_running) return;
  // A clean shutdown keeps what the last interval measured.
  if (auto r = Tick(); !r.ok()) spdlog::error("metering: last tick: {}", r.status().ToString());
}

void Meter::Loop() {
  std::unique_lock<std::mutex> lock(loop_mu_);
  while (!stopping_) {
    loop_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.tick), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    absl::StatusOr<TickResult> r = Tick();
    if (!r.ok())
      spdlog::error("metering: tick failed (retried next tick): {}", r.status().ToString());
    lock.lock();
  }
}

void Meter::Inferences(std::string_view account, std::string_view endpoint_name,
                       const Json& container, int64_t units) {
  if (units <= 0 || !inferences_on_.load(std::memory_order_relaxed)) return;
  std::string products;
  if (container.is_object()) {
    auto it = container.find("ProductIds");
    if (it != container.end()) {
      for (const std::string& id : ProductIds(*it)) {
        if (!products.empty()) products += ',';
        products += id;
      }
    }
  }
  int64_t hour = HourStart(absl::ToUnixMicros(clock_.Now()));
  std::lock_guard<std::mutex> lock(pending_mu_);
  pending_[PendingKey(std::string(account), std::string(endpoint_name), std::move(products),
                      hour)] += units;
}

void Meter::SetInferencesEnabled(bool on) { inferences_on_.store(on); }

bool Meter::inferences_enabled() const { return inferences_on_.load(); }

}  // namespace mercato::commerce
