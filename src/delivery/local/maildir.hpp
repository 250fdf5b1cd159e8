// MaildirCourier: local delivery into Maildir (https://cr.yp.to/proto/maildir.html).
//
// Each copy is written to tmp/<unique> (O_CREAT|O_EXCL|O_NOFOLLOW), fsync'ed,
// renamed into new/, and new/ is fsync'ed: once deliver() says delivered, the
// copy survives a power cut, and a reader never sees a partial file.
//
// The copy is the spooled message verbatim, with CRLF line endings as received,
// after two added header lines:
//   Return-Path: <sender>       RFC 5321 4.4, the envelope sender
//   Delivered-To: <mailbox>     as Postfix/qmail do; a message that arrives again
//                               with our own Delivered-To line is looping
//                               (used by the loop check when aliases forward)
// Keeping CRLF avoids rewriting every byte; Dovecot reads CRLF Maildirs fine.
//
// Trust and privileges: the mailbox root is trusted configuration; everything
// below it is walked one component at a time with O_NOFOLLOW|O_DIRECTORY, so a
// symlink planted in a mailbox (tmp/, new/, the mailbox directory itself or any
// parent below the root) is refused rather than followed (OpenSMTPD 2015 audit:
// local delivery through hostile symlinks). Refusals are temporary: the message
// stays queued for the operator to fix. Needs write access below the root;
// runs as the cartero user today, and sits behind Courier so it can later run
// as the recipient.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

#include "delivery/courier.hpp"

namespace cartero::delivery {

class MaildirCourier final : public Courier {
public:
    // Where a mailbox lives: must be `root` or below it (e.g. config::maildir_for).
    using MailboxPath = std::function<std::filesystem::path(std::string_view localpart, std::string_view domain)>;

    MaildirCourier(std::filesystem::path root, MailboxPath mailbox_path, std::string hostname);

    DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) override;

    // The Maildir unique name "<seconds>.M<usec>P<pid>Q<counter>.<host>" with
    // '/' and ':' in the host name escaped as \057 and \072 (Maildir spec).
    std::string unique_name();

private:
    std::filesystem::path root_;
    MailboxPath mailbox_path_;
    std::string host_;
    std::atomic<std::uint64_t> counter_{0};
};

// The host name as the Maildir spec wants it in file names.
std::string maildir_host(std::string_view hostname);

}  // namespace cartero::delivery
