// Authenticator: the decision table of authenticator.hpp against a
// MemoryAccountStore. Account hashes use libsodium's minimum argon2id cost so
// the suite stays fast; verification reads the cost from the hash string.
#include "auth/authenticator.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <future>
#include <map>
#include <semaphore>
#include <thread>

#include "accounts/memory_store.hpp"

namespace cartero::auth {
namespace {

using namespace std::string_literals;
using smtp::AuthStatus;
using std::chrono::milliseconds;

std::string_view name(AuthStatus status) {
    switch (status) {
        case AuthStatus::ok: return "ok";
        case AuthStatus::bad_credentials: return "bad_credentials";
        case AuthStatus::app_password_required: return "app_password_required";
        case AuthStatus::malformed: return "malformed";
        case AuthStatus::temporary: return "temporary";
        case AuthStatus::throttled: return "throttled";
    }
    return "?";
}

std::string cheap_hash(const std::string& password) {
    EXPECT_GE(sodium_init(), 0);
    char out[crypto_pwhash_STRBYTES];
    EXPECT_EQ(crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_MIN,
                                crypto_pwhash_MEMLIMIT_MIN),
              0);
    return out;
}

std::string base64(const std::string& raw) {
    std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();
    return out;
}

std::vector<std::string> plain(const std::string& user, const std::string& password) {
    return {base64("\0"s + user + "\0"s + password)};
}

const AppPasswordKey test_key(std::array<unsigned char, AppPasswordKey::size>{7});
const std::string app_password = "abcd efgh ijkl mnop";

struct Outcome {
    smtp::AuthResult result;
    milliseconds delay{};
    bool inline_answer = false;  // done ran before authenticate returned
};

class AuthenticatorTest : public ::testing::Test {
protected:
    AuthenticatorTest() {
        store.add_user({"alice@example.com", cheap_hash("alice password"), false});
        store.add_user({"twofa@example.com", cheap_hash("twofa password"), true});
        store.add_user({"legacy@example.com",
                        "$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2EplzfAqxL5Vvwp2scFtv/uamSo5z0",
                        false});
        store.add_app_password("twofa@example.com", "phone", test_key.digest(app_password), {});
        limits.auth_failures_before_delay = 100;
        limits.auth_failures_before_disconnect = 100;
    }

    Outcome run(Authenticator& authenticator, std::string mechanism, std::vector<std::string> responses,
                std::string ip = "192.0.2.1") {
        std::promise<Outcome> promise;
        std::atomic<bool> returned{false};
        authenticator.authenticate(std::move(mechanism), std::move(responses), std::move(ip),
                                   [&](smtp::AuthResult result, milliseconds delay) {
                                       promise.set_value(Outcome{std::move(result), delay, !returned});
                                   });
        returned = true;
        return promise.get_future().get();
    }

    accounts::MemoryAccountStore store;
    config::Limits limits;
};

TEST_F(AuthenticatorTest, DecisionTable) {
    Authenticator authenticator(store, test_key, limits);
    struct Case { std::string mechanism; std::vector<std::string> responses; AuthStatus want; std::string user; };
    const Case cases[] = {
        {"PLAIN", plain("alice@example.com", "alice password"), AuthStatus::ok, "alice@example.com"},
        {"PLAIN", plain("Alice@EXAMPLE.com", "alice password"), AuthStatus::ok, "alice@example.com"},
        {"LOGIN", {base64("alice@example.com"), base64("alice password")}, AuthStatus::ok, "alice@example.com"},
        {"PLAIN", plain("alice@example.com", "wrong password"), AuthStatus::bad_credentials, ""},
        {"PLAIN", plain("nobody@example.com", "alice password"), AuthStatus::bad_credentials, ""},
        {"PLAIN", plain("twofa@example.com", "twofa password"), AuthStatus::app_password_required, ""},
        {"PLAIN", plain("twofa@example.com", app_password), AuthStatus::ok, "twofa@example.com"},
        {"PLAIN", plain("twofa@example.com", "ABCDEFGHIJKLMNOP"), AuthStatus::ok, "twofa@example.com"},
        {"PLAIN", plain("alice@example.com", app_password), AuthStatus::bad_credentials, ""},  // not hers
        {"PLAIN", plain("legacy@example.com", "correct horse"), AuthStatus::ok, "legacy@example.com"},
        {"PLAIN", {base64("bob@example.com\0alice@example.com\0alice password"s)}, AuthStatus::malformed, ""},
        {"PLAIN", {"%%%"}, AuthStatus::malformed, ""},
    };
    for (const auto& c : cases) {
        const auto got = run(authenticator, c.mechanism, c.responses);
        EXPECT_EQ(got.result.status, c.want)
            << c.mechanism << " " << c.responses[0] << ": got " << name(got.result.status) << ", want " << name(c.want);
        EXPECT_EQ(got.result.user, c.user);
    }
}

TEST_F(AuthenticatorTest, MalformedIsAnsweredInline) {
    Authenticator authenticator(store, test_key, limits);
    const auto got = run(authenticator, "PLAIN", {"not base64"});
    EXPECT_EQ(got.result.status, AuthStatus::malformed);
    EXPECT_TRUE(got.inline_answer);
}

TEST_F(AuthenticatorTest, AppPasswordUseIsRecorded) {
    Authenticator authenticator(store, test_key, limits);
    ASSERT_EQ(run(authenticator, "PLAIN", plain("twofa@example.com", app_password)).result.status, AuthStatus::ok);
    const auto list = store.list_app_passwords("twofa@example.com");
    ASSERT_EQ(list.size(), 1u);
    EXPECT_TRUE(list[0].last_used) << "last_used must be set after a login with the app password";
}

TEST_F(AuthenticatorTest, ThrottlesAfterRepeatedFailures) {
    limits.auth_failures_before_delay = 1;
    limits.auth_failure_delay = milliseconds{100};
    limits.auth_failures_before_disconnect = 3;
    Authenticator authenticator(store, test_key, limits);
    const auto wrong = plain("alice@example.com", "wrong password");
    const auto first = run(authenticator, "PLAIN", wrong);
    EXPECT_EQ(first.result.status, AuthStatus::bad_credentials);
    EXPECT_EQ(first.delay, milliseconds{0});
    const auto second = run(authenticator, "PLAIN", wrong);
    EXPECT_EQ(second.delay, milliseconds{100}) << "the attempt after the first failure is delayed";
    const auto third = run(authenticator, "PLAIN", wrong);
    EXPECT_EQ(third.result.status, AuthStatus::throttled) << "the failure reaching the limit gets 421";
    const auto fourth = run(authenticator, "PLAIN", plain("alice@example.com", "alice password"));
    EXPECT_EQ(fourth.result.status, AuthStatus::throttled) << "even a right password, from that IP, in the window";
    EXPECT_TRUE(fourth.inline_answer) << "a throttled attempt must not cost a hash";
}

// The account-lockout denial of service: a stranger failing against alice's
// account must not keep her out where she logged in before; he is cut off.
TEST_F(AuthenticatorTest, AnAttackerElsewhereDoesNotLockTheOwnerOut) {
    limits.auth_failures_before_delay = 100;
    limits.auth_failures_before_disconnect = 3;
    Authenticator authenticator(store, test_key, limits);
    const auto right = plain("alice@example.com", "alice password");
    const auto wrong = plain("alice@example.com", "wrong password");
    ASSERT_EQ(name(run(authenticator, "PLAIN", right, "192.0.2.1").result.status), "ok");
    EXPECT_EQ(name(run(authenticator, "PLAIN", wrong, "198.51.100.7").result.status), "bad_credentials");
    EXPECT_EQ(name(run(authenticator, "PLAIN", wrong, "198.51.100.7").result.status), "bad_credentials");
    EXPECT_EQ(name(run(authenticator, "PLAIN", wrong, "198.51.100.7").result.status), "throttled");
    const auto attacker = run(authenticator, "PLAIN", right, "198.51.100.7");
    EXPECT_EQ(name(attacker.result.status), "throttled") << "the guesser is cut off";
    EXPECT_TRUE(attacker.inline_answer);
    const auto owner = run(authenticator, "PLAIN", right, "192.0.2.1");
    EXPECT_EQ(name(owner.result.status), "ok") << "alice where she logged in before";
    EXPECT_EQ(owner.delay, milliseconds{0});
    EXPECT_EQ(name(run(authenticator, "PLAIN", right, "203.0.113.1").result.status), "throttled")
        << "while the account is attacked, a network it never logged in from is refused";
}

// RFC 4954 4 exchanges that are not valid count as failures of the network.
TEST_F(AuthenticatorTest, MalformedExchangesCountAsFailures) {
    limits.auth_failures_before_delay = 100;
    limits.auth_failures_before_disconnect = 3;
    Authenticator authenticator(store, test_key, limits);
    EXPECT_EQ(name(run(authenticator, "PLAIN", {"%%%%"}).result.status), "malformed");
    EXPECT_EQ(name(run(authenticator, "LOGIN", {"%%%%"}).result.status), "malformed");
    EXPECT_EQ(name(run(authenticator, "PLAIN", {base64("no nul")}).result.status), "throttled")
        << "the third malformed exchange reaches the limit";
    EXPECT_EQ(name(run(authenticator, "PLAIN", plain("alice@example.com", "alice password")).result.status),
              "throttled");
    EXPECT_EQ(name(run(authenticator, "PLAIN", plain("alice@example.com", "alice password"), "192.0.2.2")
                       .result.status),
              "ok")
        << "malformed exchanges charge no account";
}

// A store whose lookups wait for the test to open a gate, or fail.
class SlowStore : public accounts::MemoryAccountStore {
public:
    std::optional<accounts::User> find_user(std::string_view address) const override {
        entered.release();
        gate.wait();
        if (broken) throw accounts::StoreError("disk on fire");
        return MemoryAccountStore::find_user(address);
    }
    mutable std::counting_semaphore<16> entered{0};
    std::shared_future<void> gate;
    bool broken = false;
};

TEST_F(AuthenticatorTest, FullQueueIsTemporaryAtOnce) {
    SlowStore slow;
    std::promise<void> open;
    slow.gate = open.get_future().share();
    limits.auth_concurrency = 1;
    limits.auth_queue = 1;
    std::vector<std::future<AuthStatus>> pending;
    {
        Authenticator authenticator(slow, test_key, limits);
        std::vector<std::promise<AuthStatus>> promises(2);
        for (auto& p : promises) pending.push_back(p.get_future());
        authenticator.authenticate("PLAIN", plain("a@example.com", "password1"), "192.0.2.1",
                                   [&](smtp::AuthResult r, milliseconds) { promises[0].set_value(r.status); });
        slow.entered.acquire();  // the only hashing thread is now busy
        authenticator.authenticate("PLAIN", plain("b@example.com", "password2"), "192.0.2.1",
                                   [&](smtp::AuthResult r, milliseconds) { promises[1].set_value(r.status); });
        const auto third = run(authenticator, "PLAIN", plain("c@example.com", "password3"));
        EXPECT_EQ(third.result.status, AuthStatus::temporary) << "got " << name(third.result.status);
        EXPECT_TRUE(third.inline_answer);
        slow.broken = true;
        open.set_value();
        for (auto& f : pending) EXPECT_EQ(name(f.get()), "temporary") << "a failing store answers temporary";
    }
}

// Checks in flight count against the limit: 10 parallel guesses while the
// first is still being checked get at most failures_before_disconnect checks.
TEST_F(AuthenticatorTest, ParallelGuessesCannotPassTheLimit) {
    SlowStore slow;
    std::promise<void> open;
    slow.gate = open.get_future().share();
    limits.auth_concurrency = 1;
    limits.auth_failures_before_delay = 100;
    limits.auth_failures_before_disconnect = 3;
    std::vector<std::future<AuthStatus>> answers;
    std::vector<std::promise<AuthStatus>> promises(10);
    int inline_refusals = 0;
    {
        Authenticator authenticator(slow, test_key, limits);
        for (auto& p : promises) {
            answers.push_back(p.get_future());
            authenticator.authenticate("PLAIN", plain("alice@example.com", "wrong password"), "192.0.2.1",
                                       [&p](smtp::AuthResult r, milliseconds) { p.set_value(r.status); });
            // The checks wait at the gate: an answer already there was given without one.
            if (answers.back().wait_for(std::chrono::seconds{0}) == std::future_status::ready) ++inline_refusals;
        }
        EXPECT_EQ(inline_refusals, 7) << "only 3 of 10 parallel guesses may be checked";
        open.set_value();
        std::map<std::string_view, int> got;
        for (auto& f : answers) ++got[name(f.get())];
        EXPECT_EQ(got["bad_credentials"], 2);
        EXPECT_EQ(got["throttled"], 8) << "7 refused before the check, 1 reaching the limit";
    }
}

}  // namespace
}  // namespace cartero::auth
