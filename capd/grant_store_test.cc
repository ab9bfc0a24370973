#include "capd/grant_store.h"

#include <sys/stat.h>

#include <cstdlib>

#include "common/fd.h"
#include "gtest/gtest.h"

namespace secureos::capd {
namespace {

class GrantStoreTest : public ::testing::Test {
 protected:
  std::string dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name();
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  GrantStore::Clock clock_ = [this] { return now_; };

  GrantRecord Record(const std::string& principal, const std::string& caps) {
    GrantRecord r;
    r.principal = principal;
    r.caps = *CapSet::Parse(caps);
    r.created = now_;
    r.granted_by = "uid:0";
    return r;
  }
};

TEST_F(GrantStoreTest, GrantsSurviveAReopen) {
  {
    auto store = GrantStore::Open(dir_, clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    GrantRecord r = Record("service:web", "cap_net_bind_service,cap_kill");
    r.expires = now_ + absl::Hours(1);
    r.on_revoke = v1::REVOKE_ACTION_KILL;
    ASSERT_TRUE((*store)->Put(r).ok());
    ASSERT_TRUE((*store)->Put(Record("uid:1000", "cap_chown")).ok());
  }
  auto store = GrantStore::Open(dir_, clock_);
  ASSERT_TRUE(store.ok()) << store.status();
  auto web = (*store)->Find("service:web");
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ(web->caps.ToString(), "cap_kill,cap_net_bind_service");
  EXPECT_EQ(*web->expires, now_ + absl::Hours(1));
  EXPECT_EQ(web->on_revoke, v1::REVOKE_ACTION_KILL);
  EXPECT_EQ(web->granted_by, "uid:0");
  EXPECT_EQ((*store)->List().size(), 2u);
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/grants.textproto").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(GrantStoreTest, AnExpiredLeaseIsNotInForceAndExpireRemovesIt) {
  auto store = *GrantStore::Open(dir_, clock_);
  GrantRecord r = Record("uid:1000", "cap_kill");
  r.expires = now_ + absl::Minutes(5);
  ASSERT_TRUE(store->Put(r).ok());
  EXPECT_TRUE(store->Find("uid:1000").has_value());
  now_ += absl::Minutes(5);
  EXPECT_FALSE(store->Find("uid:1000").has_value());
  EXPECT_TRUE(store->List().empty());
  auto expired = store->Expire();
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].principal, "uid:1000");
  EXPECT_EQ(store->Remove("uid:1000").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GrantStoreTest, RemoveAndReplace) {
  auto store = *GrantStore::Open(dir_, clock_);
  ASSERT_TRUE(store->Put(Record("service:a", "cap_kill")).ok());
  ASSERT_TRUE(store->Put(Record("service:a", "cap_chown")).ok());
  EXPECT_EQ(store->Find("service:a")->caps.ToString(), "cap_chown");
  auto removed = store->Remove("service:a");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->caps.ToString(), "cap_chown");
  EXPECT_FALSE(store->Find("service:a").has_value());
}

TEST_F(GrantStoreTest, AFailedPersistChangesNothing) {
  auto store = *GrantStore::Open(dir_, clock_);
  ASSERT_TRUE(store->Put(Record("service:a", "cap_kill")).ok());
  // Make the state file's directory unwritable by replacing it with a file.
  ASSERT_EQ(std::system(("rm -rf " + dir_ + " && touch " + dir_).c_str()), 0);
  EXPECT_FALSE(store->Put(Record("service:b", "cap_chown")).ok());
  EXPECT_FALSE(store->Find("service:b").has_value());
  EXPECT_FALSE(store->Remove("service:a").ok());
  EXPECT_TRUE(store->Find("service:a").has_value());
}

TEST_F(GrantStoreTest, ACorruptFileIsAnErrorNamingIt) {
  ASSERT_EQ(std::system(("mkdir -p " + dir_ + " && echo 'grants { principal: \"bogus\" }' > " +
                         dir_ + "/grants.textproto").c_str()),
            0);
  auto store = GrantStore::Open(dir_, clock_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("grants.textproto"), absl::string_view::npos)
      << store.status();
}

}  // namespace
}  // namespace secureos::capd
