#include "commerce/seller_service.h"

#include "base/aead.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "commerce/seller_validation.h"
#include "gtest/gtest.h"
#include "store/sqlite_store.h"

namespace mercato::commerce {
namespace {

class SellerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    service_ = std::make_unique<SellerService>(*store_, clock_, key_);
  }

  SellerRegistration Valid() {
    return {.legal_name = "Acme Models LLC",
            .email = "payouts@acme.example",
            .country = "US",
            .state = "CA",
            .bank_account = "000123456789",
            .bank_routing = "021000021"};
  }

  std::string Code(const absl::Status& s) { return AwsCodeOf(s).value_or(""); }

  ManualClock clock_{absl::FromUnixSeconds(1790000000)};
  std::string key_ = RandomBytes(kAeadKeySize);
  MetadataStorePtr store_;
  std::unique_ptr<SellerService> service_;
};

TEST_F(SellerServiceTest, RegistersAndShowsOnlyMasks) {
  auto s = service_->Register("111111111111", Valid());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->bank_account_mask, "****6789");
  EXPECT_EQ(s->bank_routing_mask, "****0021");
  Json j = SellerJson(*s);
  EXPECT_EQ(j["BankAccount"], "****6789");
  EXPECT_EQ(j.dump().find("000123456789"), std::string::npos);
  EXPECT_EQ(j.dump().find("021000021"), std::string::npos);
  EXPECT_TRUE(service_->RequireSeller("111111111111").ok());
}

TEST_F(SellerServiceTest, PayoutDetailsAreEncryptedAtRest) {
  ASSERT_TRUE(service_->Register("111111111111", Valid()).ok());
  auto rows = store_->Query("SELECT * FROM sellers");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  for (size_t i = 0; i < (*rows)[0].size(); ++i) {
    std::string cell = (*rows)[0].Text(i);
    EXPECT_EQ(cell.find("000123456789"), std::string::npos) << "column " << i;
    EXPECT_EQ(cell.find("021000021"), std::string::npos) << "column " << i;
    auto decoded = Base64Decode(cell);
    if (decoded.ok()) {
      EXPECT_EQ(decoded->find("000123456789"), std::string::npos);
    }
  }
  auto payout = service_->Payout("111111111111");
  ASSERT_TRUE(payout.ok()) << payout.status();
  EXPECT_EQ(payout->bank_account, "000123456789");
  EXPECT_EQ(payout->bank_routing, "021000021");
  // Another key cannot open it.
  SellerService other(*store_, clock_, RandomBytes(kAeadKeySize));
  EXPECT_FALSE(other.Payout("111111111111").ok());
}

TEST_F(SellerServiceTest, SealedPayoutIsBoundToTheAccount) {
  ASSERT_TRUE(service_->Register("111111111111", Valid()).ok());
  auto reg = Valid();
  reg.bank_account = "999988887777";
  ASSERT_TRUE(service_->Register("222222222222", reg).ok());
  // Copy seller 1's sealed payout into seller 2's row: it must not open there.
  ASSERT_TRUE(store_
                  ->Exec("UPDATE sellers SET payout_sealed = (SELECT payout_sealed FROM sellers"
                         " WHERE account_id = '111111111111') WHERE account_id = '222222222222'")
                  .ok());
  EXPECT_FALSE(service_->Payout("222222222222").ok());
}

TEST_F(SellerServiceTest, ReRegisteringUpdates) {
  ASSERT_TRUE(service_->Register("111111111111", Valid()).ok());
  clock_.Advance(absl::Hours(1));
  auto reg = Valid();
  reg.legal_name = "Acme Models Inc.";
  reg.country = "de";
  reg.state = "";
  reg.bank_account = "DE89370400440532013000";
  reg.bank_routing = "123456789";  // no ABA checksum outside the US
  auto s = service_->Register("111111111111", reg);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->legal_name, "Acme Models Inc.");
  EXPECT_EQ(s->country, "DE");
  EXPECT_EQ(s->bank_account_mask, "****3000");
  EXPECT_LT(s->created_at, s->updated_at);
  auto rows = store_->Query("SELECT COUNT(*) FROM sellers");
  EXPECT_EQ((*rows)[0].Int(0), 1);
}

TEST_F(SellerServiceTest, UnregisteredIsRefusedWithHowTo) {
  absl::Status s = service_->RequireSeller("333333333333");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Code(s), "SellerNotRegistered");
  EXPECT_NE(s.message().find("mercato seller register"), std::string::npos);
  EXPECT_EQ(service_->Get("333333333333").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SellerServiceTest, ValidatesEveryField) {
  struct Case {
    std::function<void(SellerRegistration&)> edit;
    std::string code;
  };
  std::vector<Case> cases = {
      {[](auto& r) { r.legal_name = "  "; }, "InvalidLegalName"},
      {[](auto& r) { r.email = "not-an-email"; }, "InvalidEmail"},
      {[](auto& r) { r.email = "a@b"; }, "InvalidEmail"},
      {[](auto& r) { r.email = "a b@example.com"; }, "InvalidEmail"},
      {[](auto& r) { r.email = "a@@example.com"; }, "InvalidEmail"},
      {[](auto& r) { r.country = "XX"; }, "InvalidCountry"},
      {[](auto& r) { r.country = "USA"; }, "InvalidCountry"},
      {[](auto& r) { r.state = ""; }, "InvalidState"},
      {[](auto& r) { r.state = "ZZ"; }, "InvalidState"},
      {[](auto& r) { r.bank_account = "123"; }, "InvalidBankAccount"},
      {[](auto& r) { r.bank_account = std::string(35, '1'); }, "InvalidBankAccount"},
      {[](auto& r) { r.bank_account = "1234-5678"; }, "InvalidBankAccount"},
      {[](auto& r) { r.bank_routing = "12345678"; }, "InvalidBankRouting"},
      {[](auto& r) { r.bank_routing = "02100002a"; }, "InvalidBankRouting"},
      {[](auto& r) { r.bank_routing = "021000022"; }, "InvalidBankRouting"},  // ABA checksum
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SellerRegistration r = Valid();
    cases[i].edit(r);
    auto s = service_->Register("111111111111", r);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << "case " << i;
    EXPECT_EQ(Code(s.status()), cases[i].code) << "case " << i << ": " << s.status();
  }
  EXPECT_FALSE(service_->RequireSeller("111111111111").ok());
}

TEST(SellerValidationTest, Codes) {
  EXPECT_TRUE(IsIsoCountryCode("US"));
  EXPECT_TRUE(IsIsoCountryCode("AX"));
  EXPECT_TRUE(IsIsoCountryCode("ZW"));
  EXPECT_FALSE(IsIsoCountryCode("UK"));  // GB is the code
  EXPECT_FALSE(IsIsoCountryCode("us"));
  EXPECT_TRUE(IsUspsStateCode("DC"));
  EXPECT_TRUE(IsUspsStateCode("PR"));
  EXPECT_FALSE(IsUspsStateCode("XX"));
  EXPECT_TRUE(IsAbaRoutingNumber("021000021"));
  EXPECT_TRUE(IsAbaRoutingNumber("011000015"));
  EXPECT_FALSE(IsAbaRoutingNumber("011000016"));
  EXPECT_EQ(MaskSecret("000123456789"), "****6789");
  EXPECT_EQ(MaskSecret("1234"), "****");
  EXPECT_TRUE(ValidateEmail("first.last+tag@sub.example.co").ok());
}

}  // namespace
}  // namespace mercato::commerce
