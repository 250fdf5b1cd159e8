// ServerSession DATA and BDAT: the message phase. The body is handed to the driver
// slice by slice (MessageData) and never kept here; the final 250 is sent only once
// the driver reports the message durable (message_committed), STYLE rule 10.
//
// Trust: message octets are untrusted; DataReader and ChunkReader frame them and
// BodyCheck refuses bare CR/LF, NUL, oversize and too many Received fields. A refused message is still read
// to its real end, so the framing never loses sync with the client.
//
// RFCs: 5321 4.1.1.4 (DATA), 4.5.2 (transparency), 3.3 (the transaction),
// 3030 (CHUNKING/BDAT: 2 and 4.2: the chunk octets follow the command and are
// consumed even when the command is refused; DATA and BDAT do not mix),
// 1870 (SIZE), 5321 2.3.8 (CRLF only; SMTP smuggling, CVE-2023-51764/5/6).
#include <algorithm>
#include <stdexcept>

#include "smtp/ascii.hpp"
#include "smtp/command.hpp"
#include "smtp/replies.hpp"
#include "smtp/session_impl.hpp"

namespace cartero::smtp {

namespace {

Reply problem_reply(BodyProblem problem) {
    switch (problem) {
        case BodyProblem::too_big: return replies::message_too_big();
        case BodyProblem::nul: return replies::nul_in_message();
        case BodyProblem::too_many_hops: return replies::too_many_hops();
        case BodyProblem::bare_line_ending:
        case BodyProblem::none: break;
    }
    return replies::bare_line_ending();
}

// "BDAT <size> [LAST]" (RFC 3030 2). The size is kept even when the rest is
// malformed, so the chunk can still be consumed.
struct ChunkHeader {
    std::optional<std::uint64_t> size;
    bool last = false;
    bool well_formed = false;
};

ChunkHeader parse_chunk_header(std::string_view argument) {
    const std::size_t space = std::min(argument.find(' '), argument.size());
    const std::string_view rest = argument.substr(std::min(space + 1, argument.size()));
    ChunkHeader header{parse_decimal(argument.substr(0, space)), iequals(rest, "LAST"), false};
    header.well_formed = header.size && (rest.empty() || header.last);
    return header;
}

}  // namespace

// --- DATA ------------------------------------------------------------------------

std::optional<Reply> SessionCore::check_data(std::string_view argument) const {
    if (!argument.empty()) return replies::syntax("DATA");
    if (state == State::bdat) return replies::bdat_in_progress();
    if (state == State::mail) return replies::need_rcpt();
    if (state != State::rcpt) return replies::need_mail();
    return std::nullopt;
}

void SessionCore::cmd_data(std::string_view argument) {
    if (auto refusal = check_data(argument)) return reply(*refusal);
    reply(replies::start_data());
    enter(State::data);
    data_reader.emplace(settings.message_size, settings.received_headers);
    begin_message();
}

bool SessionCore::step_data() {
    const DataReader::Step step = data_reader->read(unread());
    input_used += step.consumed;
    pass_on(step.body);
    abort_if_bad(data_reader->problem());
    if (step.finished) end_message(data_reader->problem());
    return step.consumed > 0;
}

// --- BDAT ------------------------------------------------------------------------

std::optional<Reply> SessionCore::check_bdat_sequence() const {
    if (state == State::mail) return replies::need_rcpt();
    if (state != State::rcpt && state != State::bdat) return replies::need_mail();
    return std::nullopt;
}

void SessionCore::discard_chunk(std::string_view argument) {
    octets_to_discard = parse_chunk_header(argument).size.value_or(0);
}

void SessionCore::cmd_bdat(std::string_view argument) {
    const ChunkHeader header = parse_chunk_header(argument);
    auto refusal = header.well_formed ? check_bdat_sequence() : replies::syntax("BDAT size [LAST]");
    if (refusal) {
        discard_chunk(argument);
        return reply(*refusal);
    }
    if (state != State::bdat) {
        enter(State::bdat);
        chunk_reader.emplace(settings.message_size, settings.received_headers);
        begin_message();
    }
    chunk_reader->begin_chunk(*header.size, header.last);
    reading_chunk = true;  // the reply waits until the chunk is in (RFC 3030 2)
}

bool SessionCore::step_chunk() {
    const ChunkReader::Step step = chunk_reader->read(unread());
    input_used += step.consumed;
    pass_on(step.body);
    abort_if_bad(chunk_reader->problem());
    if (!step.chunk_done) return step.consumed > 0;
    reading_chunk = false;
    // RFC 3030 2: an error reply to any chunk ends the transaction.
    const BodyProblem problem = chunk_reader->problem();
    if (problem != BodyProblem::none || chunk_reader->last_chunk()) {
        end_message(problem);
    } else {
        reply(replies::chunk_received(chunk_reader->chunk_size()));
    }
    return true;
}

// --- both ------------------------------------------------------------------------

// Decided here, when the message is accepted, from facts the client cannot
// forge (smtp/origin.hpp); the local socket counts as authenticated by the
// kernel, so its role is asked first.
Origin SessionCore::origin() const {
    if (settings.role == Role::local) return Origin::local_submission;
    if (!auth_user.empty()) return Origin::authenticated;
    if (peer.trusted) return Origin::trusted_network;
    return Origin::internet;
}

Trace SessionCore::trace() const { return Trace{helo, peer, tls, auth_user, esmtp, envelope.smtputf8}; }

void SessionCore::begin_message() {
    message_open = true;
    headers.emplace(settings.message_size);
    queue_action(MessageBegin{trace()});
}

// Body octets go on to the driver; the header block is also kept here for check_message.
void SessionCore::pass_on(std::string_view body) {
    if (body.empty()) return;
    if (headers) headers->add(body);
    queue_action(MessageData{body});
}

// The first problem stops the data flow at once; reading goes on to the real end.
void SessionCore::abort_if_bad(BodyProblem problem) {
    if (problem == BodyProblem::none || !message_open) return;
    queue_action(MessageAbort{});
    message_open = false;
}

void SessionCore::end_message(BodyProblem problem) {
    ++messages;
    begin_event(state == State::bdat ? "BDAT" : "DATA");
    if (problem != BodyProblem::none) {
        reset_transaction();
        return reply(problem_reply(problem));
    }
    // Policy at the end of the message (STYLE rule 12, phase eom): the From: check.
    if (auto refusal = policy.check_message(facts(), headers ? headers->block() : std::string_view{})) {
        reset_transaction();  // tells the driver to drop the open message
        return reply(*refusal);
    }
    headers.reset();
    message_open = false;
    envelope.origin = origin();
    pending = Pending::commit;
    queue_action(MessageEnd{envelope});
}

void SessionCore::message_committed(std::string_view queue_id) {
    if (state == State::quit) return;  // the session ended (timeout) while the commit ran
    if (pending != Pending::commit) throw std::logic_error("message_committed() without MessageEnd");
    pending = Pending::nothing;
    reset_transaction();
    reply(replies::queued(queue_id));
}

void SessionCore::message_failed(const Reply& failure) {
    if (state == State::quit) return;
    if (pending != Pending::commit) throw std::logic_error("message_failed() without MessageEnd");
    pending = Pending::nothing;
    reset_transaction();
    reply(failure);
}

}  // namespace cartero::smtp
