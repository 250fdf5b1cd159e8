// Fuzz target: the client state machine (smtp/client_session.hpp) against a hostile
// server: random reply bytes in random pieces, random TLS outcomes, EOF and
// timeouts, under random settings (LMTP, STARTTLS policy, implicit TLS, AUTH).
// Invariants: no crash or logic_error (the driver contract is kept); writes are
// whole CRLF lines outside DATA; credentials are never written before TLS; every
// transaction ends with one result per recipient; the session ends in bounded steps.
// (security-history.md: OpenSMTPD CVE-2020-8794, hostile multi-line replies.)
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "smtp/client_session.hpp"

using namespace cartero::smtp;

namespace {

ClientSettings settings_from(FuzzedDataProvider& in) {
    ClientSettings s;
    s.helo_name = "client.example";
    s.lmtp = in.ConsumeBool();
    s.tls = static_cast<ClientTls>(in.ConsumeIntegralInRange(0, 2));
    s.implicit_tls = in.ConsumeBool();
    if (in.ConsumeBool()) s.credentials = ClientCredentials{"user@example", "SECRETPW"};
    s.reply_line_length = in.ConsumeIntegralInRange<std::size_t>(0, 600);
    s.reply_lines = in.ConsumeIntegralInRange<std::size_t>(0, 40);
    s.data_block_size = in.ConsumeIntegralInRange<std::size_t>(0, 64);
    return s;
}

ClientMessage message_from(FuzzedDataProvider& in) {
    ClientMessage m;
    m.sender = in.ConsumeBool() ? "" : "a@example";
    const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(1, 4);
    for (std::size_t i = 0; i < n; ++i) {
        m.recipients.push_back(ClientRecipient{in.ConsumeRandomLengthString(40), in.ConsumeBool() ? "FAILURE" : "",
                                               in.ConsumeBool() ? "rfc822;x@y" : ""});
    }
    m.ret = in.ConsumeBool() ? "FULL" : "";
    m.envid = in.ConsumeRandomLengthString(10);
    m.data = std::make_shared<const std::string>(in.ConsumeRandomLengthString(200));
    m.eight_bit = in.ConsumeBool();
    m.smtputf8 = in.ConsumeBool();
    return m;
}

class Driver {
public:
    Driver(FuzzedDataProvider& in, ClientSession& session) : in_(in), session_(session) {}

    void run() {
        for (std::size_t step = 0; !closed_; ++step) {
            FUZZ_CHECK(step < 200000);
            std::visit([this](const auto& a) { on(a); }, session_.next());
        }
    }

private:
    void on(const ClientSend& send) {
        FUZZ_CHECK(!send.bytes.empty());
        if (session_.phase() != ClientPhase::data_block && session_.phase() != ClientPhase::data_termination) {
            FUZZ_CHECK(send.bytes.size() >= 2 && send.bytes.compare(send.bytes.size() - 2, 2, "\r\n") == 0);
        }
        // The password (base64 of it, or in PLAIN) only inside TLS.
        if (!session_.tls_active()) FUZZ_CHECK(send.bytes.find("AUTH") == std::string::npos);
    }
    void on(const ClientReceive&) {
        if (in_.remaining_bytes() == 0) return session_.peer_closed();
        if (in_.ConsumeIntegralInRange(0, 60) == 0) return session_.timed_out();
        session_.feed(in_.ConsumeBytesAsString(in_.ConsumeIntegralInRange<std::size_t>(1, 300)));
    }
    void on(const ClientStartTls&) {
        FUZZ_CHECK(!session_.tls_active());
        if (in_.ConsumeBool()) session_.tls_started();
        else session_.tls_failed("handshake failure");
    }
    void on(const ClientReady&) {
        if (recipients_ > 0) FUZZ_CHECK(session_.results().size() == recipients_);
        if (in_.remaining_bytes() == 0 || transactions_ >= 3 || in_.ConsumeBool()) {
            recipients_ = 0;
            return session_.quit();
        }
        ClientMessage m = message_from(in_);
        recipients_ = m.recipients.size();
        ++transactions_;
        session_.begin(std::move(m));
    }
    void on(const ClientClose&) {
        // A transaction cut short still has a result for every recipient.
        if (recipients_ > 0 && session_.failure()) FUZZ_CHECK(session_.results().size() == recipients_);
        closed_ = true;
    }

    FuzzedDataProvider& in_;
    ClientSession& session_;
    std::size_t recipients_ = 0;
    std::size_t transactions_ = 0;
    bool closed_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    ClientSession session(settings_from(in));
    Driver(in, session).run();
    return 0;
}
