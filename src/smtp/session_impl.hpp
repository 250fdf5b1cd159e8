// SessionCore: the private state of the SMTP server state machine, shared by
// session.cpp (input, output, states, driver events), session_commands.cpp (the
// command table and the envelope commands), session_auth.cpp (AUTH, STARTTLS) and
// session_message.cpp (DATA, BDAT). Not part of the interface: only those files
// include it. ServerSession::Impl is this struct (session.cpp); it has its own name
// because a private nested type cannot be named by the free command table.
//
// Trust: as session.hpp: everything fed in is untrusted. Buffers are bounded: `input`
// holds at most one driver read plus one unfinished line (< the line limit), `output`
// only replies to commands already read, `actions` at most a handful of entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/chunk_reader.hpp"
#include "smtp/data_reader.hpp"
#include "smtp/from_header.hpp"
#include "smtp/line_reader.hpp"
#include "smtp/session.hpp"

namespace cartero::smtp {

// RFC 4954 4: a server MUST accept SASL response lines of at least 12288 octets.
inline constexpr std::size_t min_sasl_line_length = 12288;

// Flags of one command in the command table (STYLE rule 3, after Postfix smtpd_cmd_table).
enum CommandFlag : unsigned {
    needs_helo = 1u << 0,     // 503 before EHLO/HELO (RFC 5321 4.1.4)
    pre_tls = 1u << 1,        // allowed where TLS is required but not yet active (RFC 3207 4)
    counts_errors = 1u << 2,  // a 5xx reply to it counts toward limits.bad_commands
};

struct SessionCore;
using CommandHandler = void (SessionCore::*)(std::string_view argument);

struct CommandSpec {
    std::string_view verb;
    CommandHandler handler;
    unsigned flags;
    CommandHandler on_refused = nullptr;  // BDAT: consume the chunk even when refused (RFC 3030 2)
};

// Looks a verb up in the table; unknown verbs get the spec of "UNKNOWN" (a 502).
const CommandSpec& find_command(std::string_view verb);

// What the session waits for from the driver after an action it cannot answer itself.
enum class Pending { nothing, tls_handshake, credential_check, commit };

// Which grammar the next input octets are read with.
enum class InputMode { commands, sasl_response, data, chunk, discard };

// A SASL exchange in progress (RFC 4954 4).
struct SaslExchange {
    std::string_view mechanism;
    const std::vector<std::string_view>* prompts = nullptr;  // one 334 challenge per response
    std::vector<std::string> responses;                      // base64 as sent, undecoded
};

struct SessionCore {
    SessionCore(SessionSettings settings, PeerInfo peer, const SessionPolicy& policy,
                std::optional<TlsInfo> already_tls, SessionObserver* observer, TransactionLimits* limits);

    // --- driver side (session.cpp)
    Action next();
    void feed(std::string_view bytes);
    void peer_closed();
    void timed_out();
    void tls_started(TlsInfo info);
    void tls_failed();
    void auth_finished(const AuthResult& result);
    void message_committed(std::string_view queue_id);
    void message_failed(const Reply& reply);

    // --- core (session.cpp)
    bool step();
    InputMode input_mode() const;
    std::string_view unread() const { return std::string_view(input).substr(input_used); }
    bool step_command();
    bool step_discard();
    void dispatch(std::string_view line);
    std::optional<Reply> check_allowed(const CommandSpec& spec) const;
    void begin_event(std::string_view verb);
    void enter(State to);
    void reply(const Reply& reply);
    void queue_action(Action action);
    void close(const Reply& reply);
    Action wait_for_input();
    SessionFacts facts() const;
    bool in_transaction() const;

    // --- commands (session_commands.cpp)
    void cmd_ehlo(std::string_view argument);
    void cmd_helo(std::string_view argument);
    void hello(std::string_view argument, bool esmtp);
    std::vector<std::string> extensions() const;
    void cmd_mail(std::string_view argument);
    void cmd_rcpt(std::string_view argument);
    std::optional<Reply> check_mail_allowed() const;
    std::optional<Reply> check_rcpt_allowed() const;
    std::optional<Reply> check_sender(const Envelope& draft) const;
    void cmd_rset(std::string_view argument);
    void cmd_noop(std::string_view argument);
    void cmd_quit(std::string_view argument);
    void cmd_vrfy(std::string_view argument);
    void cmd_expn(std::string_view argument);
    void cmd_help(std::string_view argument);
    void cmd_unknown(std::string_view argument);
    void reset_transaction();
    void refuse(const Reply& refusal);  // reply, or close on a 421 (TransactionLimits)

    // --- STARTTLS and AUTH (session_auth.cpp)
    void cmd_starttls(std::string_view argument);
    std::optional<Reply> check_starttls(std::string_view argument) const;
    bool starttls_offered() const;
    bool auth_offered() const;
    void cmd_auth(std::string_view argument);
    std::optional<Reply> check_auth_allowed() const;
    void continue_sasl();
    bool step_sasl_response();
    void end_sasl(const Reply& reply);

    // --- DATA and BDAT (session_message.cpp)
    void cmd_data(std::string_view argument);
    std::optional<Reply> check_data(std::string_view argument) const;
    void cmd_bdat(std::string_view argument);
    void discard_chunk(std::string_view argument);
    std::optional<Reply> check_bdat_sequence() const;
    void begin_message();
    bool step_data();
    bool step_chunk();
    void abort_if_bad(BodyProblem problem);
    void end_message(BodyProblem problem);
    void pass_on(std::string_view body);
    Trace trace() const;
    Origin origin() const;

    // Settings and collaborators, fixed for the session.
    SessionSettings settings;
    PeerInfo peer;
    const SessionPolicy& policy;
    SessionObserver* observer;
    TransactionLimits* limits;  // may be null: no cross-session limits (unit tests)

    // Session state (RFC 5321 4.1.4: EHLO and STARTTLS reset parts of it).
    State state = State::connect;
    Pending pending = Pending::nothing;
    std::optional<TlsInfo> tls;
    std::string helo;
    bool esmtp = false;
    std::string auth_user;
    std::size_t messages = 0;      // message transactions ended (limits.messages_per_session)
    std::size_t bad_commands = 0;  // 5xx replies to counting commands (limits.bad_commands)
    bool shutdown_requested = false;

    // The mail transaction (RFC 5321 3.3).
    Envelope envelope;
    bool message_open = false;  // MessageBegin sent, no MessageEnd/MessageAbort yet
    // The header block of the message being received, for the end-of-message
    // policy (the From: check); bounded by settings.message_size.
    std::optional<HeaderCollector> headers;
    std::optional<DataReader> data_reader;
    std::optional<ChunkReader> chunk_reader;
    bool reading_chunk = false;
    std::uint64_t octets_to_discard = 0;  // octets of a refused BDAT chunk
    SaslExchange sasl;

    // Input and output. `input` is compacted only in feed(), so MessageData views into
    // it stay valid until the driver feeds more.
    std::string input;
    std::size_t input_used = 0;
    LineReader lines;
    std::string output;
    std::deque<Action> actions;

    // The command being answered, for the observer and the bad-command count.
    std::string_view current_verb = "CONNECT";
    bool counting_errors = false;
};

}  // namespace cartero::smtp
