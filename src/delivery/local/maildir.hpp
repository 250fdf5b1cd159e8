// MaildirCourier: local delivery into Maildir (https://cr.yp.to/proto/maildir.html).
//
// How a copy is made (Linux, a filesystem with O_TMPFILE: ext4, xfs, btrfs, tmpfs):
//   1. open(new/, O_TMPFILE): an inode with no name, so no reader can see it and no
//      directory lock is taken while the filesystem allocates the inode;
//   2. write, fdatasync: the data is on disk before any name points at it;
//   3. linkat into new/<unique>: the copy appears whole, in one step (never
//      replacing a name: linkat fails with EEXIST);
//   4. fsync the file again: its link count is inode metadata, which only the
//      file's own fsync is guaranteed to write (on ext4 without a journal a
//      crash would otherwise leave a name pointing at an inode fsck frees);
//   5. fsync new/, shared: deliveries to the same mailbox that linked while an
//      fsync of new/ was running wait for the next one and share it (group
//      commit), each returning only once an fsync that began after its link
//      has succeeded.
// Where O_TMPFILE is refused (EOPNOTSUPP: the filesystem; EISDIR: a kernel
// before 3.11; or linkat cannot give the file a name), the classic Maildir
// protocol is used for that mailbox from then on: tmp/<unique> (O_CREAT|O_EXCL|
// O_NOFOLLOW), fsync, rename into new/, then the same shared fsync of new/.
// Either way, once deliver() says delivered the copy survives a power cut, and
// a reader never sees a partial file in new/.
//
// The copy is the spooled message verbatim, with CRLF line endings as received,
// after two added header lines:
//   Return-Path: <sender>       RFC 5321 4.4, the envelope sender
//   Delivered-To: <mailbox>     as Postfix/qmail do; a message that arrives again
//                               with this line is looping, and the queue bounces
//                               it before it reaches this courier (the loop check
//                               in delivery/delivered_to.hpp)
// Keeping CRLF avoids rewriting every byte; Dovecot reads CRLF Maildirs fine.
//
// Open mailboxes: the descriptors of a mailbox's directories (from the root
// down, tmp/ and new/) stay open between deliveries, for up to
// MaildirOptions::open_mailboxes mailboxes (least recently used closed first),
// so a busy mailbox is not walked and mkdir'ed for every copy. Before each
// delivery the kept chain is checked against the names, one fstatat per
// component without following symlinks: a mailbox renamed, removed or replaced
// by a symlink since is opened afresh (and refused if it is now a symlink).
//
// Trust and privileges: the mailbox root is trusted configuration; everything
// below it is walked one component at a time with O_NOFOLLOW|O_DIRECTORY, so a
// symlink planted in a mailbox (tmp/, new/, the mailbox directory itself or any
// parent below the root) is refused rather than followed (OpenSMTPD 2015 audit:
// local delivery through hostile symlinks). linkat and rename never follow a
// symlink in the name they create. Refusals are temporary: the message stays
// queued for the operator to fix. Needs write access below the root; runs as
// the cartero user today, and sits behind Courier so it can later run as the
// recipient.
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "delivery/courier.hpp"

namespace cartero::delivery {

struct MaildirOptions {
    // Mailboxes whose directory descriptors stay open between deliveries
    // (proposed config key delivery.maildir_open_mailboxes). Each holds
    // 3 + (depth below the root) descriptors: 5 for {root}/{domain}/{user}.
    std::size_t open_mailboxes = 32;
    // Make copies with O_TMPFILE + linkat where the filesystem allows it. false
    // forces the classic tmp/ + rename for every mailbox (tests of the fallback).
    bool anonymous_files = true;
};

class MaildirCourier final : public Courier {
public:
    // Where a mailbox lives: must be `root` or below it (e.g. config::maildir_for).
    using MailboxPath = std::function<std::filesystem::path(std::string_view localpart, std::string_view domain)>;

    MaildirCourier(std::filesystem::path root, MailboxPath mailbox_path, std::string hostname,
                   MaildirOptions options = {});
    ~MaildirCourier() override;
    MaildirCourier(const MaildirCourier&) = delete;
    MaildirCourier& operator=(const MaildirCourier&) = delete;

    // Thread-safe: the delivery queue's workers call it concurrently.
    DeliveryOutcome deliver(const spool::QueuedMessage& message, std::string_view recipient) override;

    // The Maildir unique name "<seconds>.M<usec>P<pid>Q<counter>.<host>" with
    // '/' and ':' in the host name escaped as \057 and \072 (Maildir spec).
    std::string unique_name();

    struct Mailbox;
    class MailboxCache;

private:
    std::shared_ptr<Mailbox> mailbox_for(const std::filesystem::path& relative, DeliveryOutcome& failure);

    std::filesystem::path root_;
    MailboxPath mailbox_path_;
    std::string host_;
    MaildirOptions options_;
    std::atomic<std::uint64_t> counter_{0};
    std::unique_ptr<MailboxCache> cache_;
};

// The host name as the Maildir spec wants it in file names.
std::string maildir_host(std::string_view hostname);

}  // namespace cartero::delivery
