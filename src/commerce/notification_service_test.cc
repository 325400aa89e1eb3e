#include "commerce/notification_service.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "base/errors.h"
#include "commerce/webhook_client.h"
#include "commerce/webhook_dispatcher.h"
#include "gtest/gtest.h"
#include "http/server.h"
#include "store/sqlite_store.h"

namespace mercato::commerce {
namespace {

// A loopback webhook receiver on 127.0.0.1, port 0: records each POST and answers with
// `status`.
class Receiver : public http::Handler {
 public:
  struct Hit {
    std::string method, path, event, delivery, body;
  };
  http::Response Handle(http::Request& request, http::BodyReader& body) override {
    auto all = body.ReadAll(1 << 20);
    std::lock_guard<std::mutex> lock(mu_);
    hits_.push_back({request.method, request.path, std::string(request.Header("X-Mercato-Event")),
                     std::string(request.Header("X-Mercato-Delivery")), all.ok() ? *all : ""});
    return http::Response::Text(status_.load(), "ok");
  }
  std::vector<Hit> hits() {
    std::lock_guard<std::mutex> lock(mu_);
    return hits_;
  }
  std::atomic<int> status_{200};

 private:
  std::mutex mu_;
  std::vector<Hit> hits_;
};

class NotificationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    service_ = std::make_unique<NotificationService>(*store_, clock_);
  }

  void StartReceiver() {
    auto server = http::Server::Create(
        {.host = "127.0.0.1", .port = 0, .io_threads = 1, .max_workers = 4}, receiver_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->Start();
  }
  std::string Url() { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook"; }

  int64_t Count(const std::string& sql) {
    auto rows = store_->Query(sql);
    return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
  }

  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(1));
  }

  ManualClock clock_{absl::FromUnixSeconds(1790000000)};
  MetadataStorePtr store_;
  std::unique_ptr<NotificationService> service_;
  Receiver receiver_;
  http::ServerPtr server_;
};

TEST_F(NotificationServiceTest, ListsMarksReadAndIsPerAccount) {
  ASSERT_TRUE(service_->Notify("111111111111", "a.one", "S1", "M1", {{"k", 1}}).ok());
  clock_.Advance(absl::Seconds(1));
  auto second = service_->Notify("111111111111", "a.two", "S2", "M2", nullptr);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(service_->Notify("222222222222", "b.one", "S", "M", {}).ok());

  auto all = service_->List("111111111111", false);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].type, "a.two");  // newest first
  EXPECT_EQ((*all)[1].data["k"], 1);
  EXPECT_TRUE((*all)[0].data.is_object());

  auto read = service_->MarkRead("111111111111", second->id);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->read);
  auto unread = service_->List("111111111111", true);
  ASSERT_EQ(unread->size(), 1u);
  EXPECT_EQ((*unread)[0].type, "a.one");

  // Another account's notification is not found.
  auto other = service_->MarkRead("222222222222", second->id);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(AwsCodeOf(other.status()), "NotificationNotFound");
  Json j = NotificationJson(*read);
  EXPECT_EQ(j["Read"], true);
  EXPECT_EQ(j["Type"], "a.two");
}

TEST_F(NotificationServiceTest, WebhookUrlIsValidated) {
  for (const char* bad : {"https://example.com/x", "ftp://x", "http://", "http://a b/",
                          "http://user@host/", "example.com"}) {
    absl::Status s = service_->SetWebhook("111111111111", bad);
    EXPECT_EQ(AwsCodeOf(s), "InvalidWebhookUrl") << bad;
  }
  ASSERT_TRUE(service_->SetWebhook("111111111111", "http://127.0.0.1:9/x").ok());
  EXPECT_EQ(**service_->GetWebhook("111111111111"), "http://127.0.0.1:9/x");
  ASSERT_TRUE(service_->ClearWebhook("111111111111").ok());
  EXPECT_FALSE(service_->GetWebhook("111111111111")->has_value());
}

TEST_F(NotificationServiceTest, DeliversToLoopbackWebhook) {
  StartReceiver();
  WebhookDispatcher dispatcher(*store_, clock_, {.timeout = absl::Seconds(5)});
  service_->set_on_enqueued([&] { dispatcher.Wake(); });
  ASSERT_TRUE(service_->SetWebhook("111111111111", Url()).ok());
  dispatcher.Start();
  auto n = service_->Notify("111111111111", "product.removed", "Subj", "Msg", {{"x", "y"}});
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(service_->Notify("222222222222", "no.hook", "S", "M", {}).ok());  // no webhook

  for (int i = 0; i < 500 && receiver_.hits().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  dispatcher.Stop();
  auto hits = receiver_.hits();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].method, "POST");
  EXPECT_EQ(hits[0].path, "/hook");
  EXPECT_EQ(hits[0].event, "product.removed");
  EXPECT_EQ(hits[0].delivery, n->id);
  auto body = ParseJson(hits[0].body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["Id"], n->id);
  EXPECT_EQ((*body)["Message"], "Msg");
  EXPECT_EQ((*body)["Data"]["x"], "y");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_outbox WHERE status = 'Delivered'"), 1);
}

TEST_F(NotificationServiceTest, RetriesWithBackoffThenGivesUp) {
  StartReceiver();
  receiver_.status_ = 500;
  WebhookDispatcher dispatcher(*store_, clock_,
                               {.max_attempts = 3, .first_backoff = absl::Seconds(10)});
  ASSERT_TRUE(service_->SetWebhook("111111111111", Url()).ok());
  ASSERT_TRUE(service_->Notify("111111111111", "t", "S", "M", {}).ok());

  EXPECT_EQ(*dispatcher.DeliverDue(), 0);  // attempt 1 fails: next in 10 s
  EXPECT_EQ(*dispatcher.DeliverDue(), 0);  // not due yet: no attempt
  EXPECT_EQ(receiver_.hits().size(), 1u);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(*dispatcher.DeliverDue(), 0);  // attempt 2 fails: next in 20 s
  clock_.Advance(absl::Seconds(19));
  EXPECT_EQ(*dispatcher.DeliverDue(), 0);
  EXPECT_EQ(receiver_.hits().size(), 2u);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(*dispatcher.DeliverDue(), 0);  // attempt 3 fails: give up
  EXPECT_EQ(receiver_.hits().size(), 3u);
  clock_.Advance(absl::Hours(1));
  receiver_.status_ = 200;
  EXPECT_EQ(*dispatcher.DeliverDue(), 0);
  EXPECT_EQ(receiver_.hits().size(), 3u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_outbox WHERE status = 'Failed'"
                  " AND attempts = 3 AND last_error = 'HTTP 500'"),
            1);
}

TEST_F(NotificationServiceTest, PendingDeliveriesSurviveARestart) {
  // The first dispatcher cannot reach the receiver (closed port): the row stays Pending.
  std::vector<WebhookPost> sent;
  {
    WebhookDispatcher down(*store_, clock_,
                           {.first_backoff = absl::Seconds(1),
                            .post = [](const WebhookPost&, absl::Duration) -> absl::StatusOr<int> {
                              return absl::UnavailableError("connection refused");
                            }});
    ASSERT_TRUE(service_->SetWebhook("111111111111", "http://127.0.0.1:9/h").ok());
    ASSERT_TRUE(service_->Notify("111111111111", "t", "S", "M", {}).ok());
    EXPECT_EQ(*down.DeliverDue(), 0);
  }
  // A new dispatcher (as after a restart) delivers it once due.
  WebhookDispatcher up(*store_, clock_,
                       {.post = [&](const WebhookPost& p, absl::Duration) -> absl::StatusOr<int> {
                         sent.push_back(p);
                         return 204;
                       }});
  EXPECT_EQ(*up.DeliverDue(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(*up.DeliverDue(), 1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:9/h");
  EXPECT_EQ(*up.DeliverDue(), 0);  // delivered once
}

TEST_F(NotificationServiceTest, ClearingTheWebhookAbandonsPending) {
  ASSERT_TRUE(service_->SetWebhook("111111111111", "http://127.0.0.1:9/h").ok());
  ASSERT_TRUE(service_->Notify("111111111111", "t", "S", "M", {}).ok());
  ASSERT_TRUE(service_->ClearWebhook("111111111111").ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_outbox WHERE status = 'Pending'"), 0);
  ASSERT_TRUE(service_->Notify("111111111111", "t", "S", "M", {}).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_outbox"), 1);
}

TEST(WebhookClientTest, RefusedConnectionIsUnavailable) {
  // Port 9 (discard) on loopback is closed in the test environment.
  auto r = PostWebhook({.url = "http://127.0.0.1:9/x", .body = "{}"}, absl::Seconds(2));
  EXPECT_FALSE(r.ok());
  auto bad = PostWebhook({.url = "https://127.0.0.1/x", .body = "{}"}, absl::Seconds(2));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mercato::commerce
