// MaildirCourier: local delivery into Maildir (https://cr.yp.to/proto/maildir.html).
//
// How a copy is made (Linux, a filesystem with O_TMPFILE: ext4, xfs, btrfs, tmpfs):
//   1. open(new/, O_TMPFILE): an inode with no name, so no reader can see it and no
//      directory lock is taken while the filesystem allocates the inode;
//   2. write, fdatasync: the data is on disk before any name points at it;
//   3. linkat into new/<name>: the copy appears whole, in one step (never
//      replacing a name: linkat fails with EEXIST, which means the copy is
//      there from an earlier attempt: see "Exactly once" below);
//   4. fsync the file again: its link count is inode metadata, which only the
//      file's own fsync is guaranteed to write (on ext4 without a journal a
//      crash would otherwise leave a name pointing at an inode fsck frees);
//   5. fsync new/, shared: deliveries to the same mailbox that linked while an
//      fsync of new/ was running wait for the next one and share it (group
//      commit), each returning only once an fsync that began after its link
//      has succeeded.
// Where O_TMPFILE is refused (EOPNOTSUPP: the filesystem; EISDIR: a kernel
// before 3.11; or linkat cannot give the file a name), the classic Maildir
// protocol is used for that mailbox from then on: tmp/<name> (O_CREAT|O_EXCL|
// O_NOFOLLOW; a tmp/<name> left by a crash is ours and removed first), fsync,
// rename into new/, then the same shared fsync of new/.
// Either way, once deliver() says delivered the copy survives a power cut, and
// a reader never sees a partial file in new/.
//
// Exactly once, even after kill -9: a copy's name is the same at every attempt,
//   <received_at>.Q<queue ID>R<digest of the mailbox address>.<host>
// (a valid Maildir unique name: time, a part unique per message and mailbox,
// host; one path component with no '/' or ':'). The queue marks a copy done
// lazily (spool.hpp), so a crash after the copy and before its done mark is
// durable makes the queue ask again after the restart. For such a recovered
// message (QueuedMessage::recovered) the courier first looks for its copy:
// new/<name> (one fstatat), then cur/<name>:2,FLAGS where a mail client may
// have moved it (one pass over cur/, only for recovered messages, so the
// common path pays nothing). Found, the copy is fsynced and reported delivered
// ("already delivered"), and no second copy is made. What cannot be found: a
// copy the user deleted or moved to another folder within that window, or one
// made under another host name (server.hostname changed across the crash).
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

    // The name of `message`'s copy for `recipient`, the same at every attempt
    // and after a restart: "<received_at>.Q<queue ID>R<16 hex digits>.<host>",
    // with '/' and ':' in the host name escaped as \057 and \072 (Maildir spec).
    std::string copy_name(const spool::QueuedMessage& message, std::string_view recipient) const;

    struct Mailbox;
    class MailboxCache;

private:
    std::shared_ptr<Mailbox> mailbox_for(const std::filesystem::path& relative, DeliveryOutcome& failure);

    std::filesystem::path root_;
    MailboxPath mailbox_path_;
    std::string host_;
    MaildirOptions options_;
    std::unique_ptr<MailboxCache> cache_;
};

// The host name as the Maildir spec wants it in file names.
std::string maildir_host(std::string_view hostname);

}  // namespace cartero::delivery
