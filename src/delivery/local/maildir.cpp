// MaildirCourier; see maildir.hpp.
#include "delivery/local/maildir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/file_io.hpp"
#include "delivery/delivered_to.hpp"

namespace cartero::delivery {
namespace {

using base::UniqueFd;

constexpr mode_t directory_mode = 0700;
constexpr mode_t message_mode = 0600;

// A directory's identity, to tell whether a name still leads to a kept descriptor.
struct Identity {
    dev_t device = 0;
    ino_t inode = 0;
    bool operator==(const Identity&) const = default;
};

std::optional<Identity> identity_of(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::nullopt;
    return Identity{st.st_dev, st.st_ino};
}

// What `name` in `parent` is now, without following a symlink (a symlink has its own inode).
std::optional<Identity> identity_at(int parent, const char* name) {
    struct stat st {};
    if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return Identity{st.st_dev, st.st_ino};
}

// Opens (creating if missing) directory `name` inside `parent`, never
// following a symlink: O_NOFOLLOW makes a symlink fail with ELOOP (or ENOTDIR).
UniqueFd open_child_directory(int parent, const std::string& name, std::error_code& error) {
    if (::mkdirat(parent, name.c_str(), directory_mode) != 0 && errno != EEXIST) {
        error = base::last_error();
        return {};
    }
    const int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    error = fd < 0 ? base::last_error() : std::error_code{};
    return UniqueFd(fd);
}

// The mailbox path relative to the root, refusing anything that could climb out.
std::optional<std::filesystem::path> below_root(const std::filesystem::path& root, const std::filesystem::path& path) {
    const auto relative = path.lexically_normal().lexically_relative(root.lexically_normal());
    if (relative.empty() || relative.is_absolute()) return std::nullopt;
    for (const auto& part : relative)
        if (part == ".." || part == ".") return std::nullopt;
    return relative;
}

std::string split_localpart(std::string_view address) { return std::string(address.substr(0, address.rfind('@'))); }
std::string split_domain(std::string_view address) {
    const auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

std::error_code write_copy(int fd, const spool::QueuedMessage& message, std::string_view recipient) {
    const std::string added = "Return-Path: <" + message.envelope.sender + ">\r\n" + delivered_to_field(recipient);
    iovec buffers[] = {{const_cast<char*>(added.data()), added.size()},
                       {const_cast<char*>(message.data->data()), message.data->size()}};
    return base::pwritev_all(fd, buffers, 0);
}

// Group commit of one directory's fsync. A caller that finished its link or
// rename joins the open batch; if no fsync is running it takes the batch and
// runs one, otherwise it waits, and the first waiter woken after that fsync
// runs the next one for everybody who joined meanwhile. A batch is closed when
// its fsync starts, so every member's entry existed before the fsync that
// covers it began (what makes the entry durable).
class DirectorySync {
public:
    std::error_code sync(int directory) {
        std::unique_lock lock(mutex_);
        const std::shared_ptr<Batch> mine = open_;
        while (!mine->done) {
            if (syncing_) {
                finished_.wait(lock);
                continue;
            }
            syncing_ = true;
            const std::shared_ptr<Batch> batch = std::exchange(open_, std::make_shared<Batch>());
            lock.unlock();
            const std::error_code error = ::fsync(directory) == 0 ? std::error_code{} : base::last_error();
            lock.lock();
            batch->error = error;
            batch->done = true;
            syncing_ = false;
            finished_.notify_all();
        }
        return mine->error;
    }

private:
    struct Batch {
        bool done = false;
        std::error_code error;
    };
    std::mutex mutex_;
    std::condition_variable finished_;
    std::shared_ptr<Batch> open_ = std::make_shared<Batch>();
    bool syncing_ = false;
};

// Gives the anonymous file `fd` the name `name` in `directory`. AT_EMPTY_PATH
// needs CAP_DAC_READ_SEARCH (before Linux 6.10); without it the documented
// alternative (open(2), O_TMPFILE) is the /proc/self/fd magic link, which
// names our own descriptor, not a path anyone else controls.
std::error_code link_anonymous(int fd, int directory, const char* name, std::atomic<bool>& empty_path_works) {
    if (empty_path_works.load(std::memory_order_relaxed)) {
        if (::linkat(fd, "", directory, name, AT_EMPTY_PATH) == 0) return {};
        if (errno != ENOENT && errno != EPERM) return base::last_error();
        empty_path_works.store(false, std::memory_order_relaxed);
    }
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    if (::linkat(AT_FDCWD, self.c_str(), directory, name, AT_SYMLINK_FOLLOW) == 0) return {};
    return base::last_error();
}

}  // namespace

// A mailbox's directories, kept open. `chain` runs from the root (chain[0]) to
// the mailbox directory; names[i] is chain[i+1]'s name in chain[i].
struct MaildirCourier::Mailbox {
    std::vector<UniqueFd> chain;
    std::vector<Identity> chain_ids;
    std::vector<std::string> names;
    UniqueFd tmp, fresh;  // tmp/ and new/
    Identity tmp_id, fresh_id;
    DirectorySync fresh_sync;
    std::atomic<bool> anonymous_files{true};    // cleared for good when O_TMPFILE is refused here
    std::atomic<bool> empty_path_links{true};   // cleared when linkat(AT_EMPTY_PATH) is not allowed

    int mailbox() const { return chain.back().get(); }
    bool still_valid(const std::filesystem::path& root) const;
};

// True when every kept descriptor is still what its name leads to, walking
// without following symlinks. The root may be reached through symlinks: it is
// trusted configuration, opened the same way at every miss.
bool MaildirCourier::Mailbox::still_valid(const std::filesystem::path& root) const {
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0 || Identity{st.st_dev, st.st_ino} != chain_ids[0]) return false;
    for (std::size_t i = 0; i < names.size(); ++i)
        if (identity_at(chain[i].get(), names[i].c_str()) != chain_ids[i + 1]) return false;
    return identity_at(mailbox(), "tmp") == tmp_id && identity_at(mailbox(), "new") == fresh_id;
}

// The open mailboxes, least recently used last. Entries are shared: a mailbox
// evicted while a delivery uses it is closed when that delivery ends.
class MaildirCourier::MailboxCache {
public:
    explicit MailboxCache(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {}

    std::shared_ptr<Mailbox> find(const std::string& key) {
        std::lock_guard lock(mutex_);
        const auto found = index_.find(key);
        if (found == index_.end()) return nullptr;
        order_.splice(order_.begin(), order_, found->second);
        return found->second->second;
    }

    void put(const std::string& key, std::shared_ptr<Mailbox> mailbox) {
        std::lock_guard lock(mutex_);
        if (const auto found = index_.find(key); found != index_.end()) {
            order_.erase(found->second);
            index_.erase(found);
        }
        order_.emplace_front(key, std::move(mailbox));
        index_.emplace(key, order_.begin());
        if (order_.size() > capacity_) {
            index_.erase(order_.back().first);
            order_.pop_back();
        }
    }

private:
    using Entry = std::pair<std::string, std::shared_ptr<Mailbox>>;
    std::mutex mutex_;
    std::size_t capacity_;
    std::list<Entry> order_;
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

namespace {

using Mailbox = MaildirCourier::Mailbox;

// Walks from the root to the mailbox and opens its tmp/ new/ cur/, creating
// what is missing; on failure `failure` names the directory that could not be used.
std::shared_ptr<Mailbox> open_mailbox(const std::filesystem::path& root, const std::filesystem::path& relative,
                                      DeliveryOutcome& failure) {
    auto box = std::make_shared<Mailbox>();
    std::error_code error;
    std::filesystem::path where = root;
    box->chain.push_back(base::open_file(root, O_RDONLY | O_DIRECTORY, error));
    for (auto part = relative.begin(); part != relative.end() && !error; ++part) {
        where /= *part;
        box->names.push_back(part->string());
        box->chain.push_back(open_child_directory(box->chain.back().get(), part->string(), error));
    }
    auto subdirectory = [&](const char* name) {
        if (error) return UniqueFd();
        UniqueFd fd = open_child_directory(box->mailbox(), name, error);
        if (error) where /= name;
        return fd;
    };
    box->tmp = subdirectory("tmp");
    box->fresh = subdirectory("new");
    subdirectory("cur");  // readers expect it; delivery itself never writes there
    if (error) {
        failure = classify(error, where.string());
        return nullptr;
    }
    for (const auto& fd : box->chain) box->chain_ids.push_back(identity_of(fd.get()).value_or(Identity{}));
    box->tmp_id = identity_of(box->tmp.get()).value_or(Identity{});
    box->fresh_id = identity_of(box->fresh.get()).value_or(Identity{});
    return box;
}

// The error of a step, with where it happened, for the log line.
struct Failure {
    std::error_code error;
    std::string where;  // relative to the mailbox: "new/<name>", "tmp/<name>", "new/"
    bool exists = false;  // new/<name> was there already: this copy was made before
};

// Makes the copy `name` in `directory`, found there from an earlier attempt,
// durable before it is reported delivered: that attempt may have crashed
// between its link and its fsyncs, and a name that only the page cache holds
// would not survive a power cut. The data was synced before the name existed.
std::error_code make_durable(int directory, const char* name) {
    const int fd = ::openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return base::last_error();
    UniqueFd file(fd);
    if (::fsync(file.get()) != 0 || ::fsync(directory) != 0) return base::last_error();
    return {};
}

// True when `entry` in cur/ is our copy `name` after a mail client moved it
// there: "<name>:2,<flags>" (Maildir info), or "<name>,S=<size>..." (Dovecot's
// extra fields) before the info.
bool is_moved_copy(std::string_view entry, std::string_view name) {
    return entry.starts_with(name) &&
           (entry.size() == name.size() || entry[name.size()] == ':' || entry[name.size()] == ',');
}

// Looks for the copy `name` in cur/, making it durable when found. One pass
// over cur/: only done for messages recovered after a restart (maildir.hpp).
bool found_in_cur(int mailbox, std::string_view name, std::error_code& error) {
    const int fd = ::openat(mailbox, "cur", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) error = base::last_error();
        return false;
    }
    DIR* listing = ::fdopendir(fd);
    if (listing == nullptr) {
        error = base::last_error();
        ::close(fd);
        return false;
    }
    const std::unique_ptr<DIR, int (*)(DIR*)> closer(listing, ::closedir);
    errno = 0;
    while (const dirent* entry = ::readdir(listing)) {
        if (!is_moved_copy(entry->d_name, name)) continue;
        error = make_durable(fd, entry->d_name);
        return !error;
    }
    if (errno != 0) error = base::last_error();
    return false;
}

// Makes new/<name> with O_TMPFILE + linkat (maildir.hpp, steps 1-4). Sets
// `unsupported`, having changed nothing in the mailbox, when this mailbox's
// filesystem or kernel refuses the anonymous file: the caller falls back.
Failure link_into_new(Mailbox& box, const spool::QueuedMessage& message, std::string_view recipient,
                                     const std::string& name, bool& unsupported) {
    const int fd = ::openat(box.fresh.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, message_mode);
    if (fd < 0) {
        unsupported = errno == EOPNOTSUPP || errno == EISDIR;
        return Failure{base::last_error(), "new/ (O_TMPFILE)"};
    }
    UniqueFd file(fd);
    if (auto error = write_copy(file.get(), message, recipient)) return Failure{error, "new/ (O_TMPFILE)"};
    // The data must be on disk before a name can be: the link may reach the
    // disk with any later journal commit, including another delivery's.
    if (::fdatasync(file.get()) != 0) return Failure{base::last_error(), "new/ (O_TMPFILE)"};
    if (auto error = link_anonymous(file.get(), box.fresh.get(), name.c_str(), box.empty_path_links)) {
        // linkat never replaces a name: the copy is there from an earlier attempt.
        if (error == std::errc::file_exists) return Failure{{}, "new/" + name, true};
        // No /proc and no capability: the kernel cannot name the file for us.
        unsupported = error == std::errc::no_such_file_or_directory && !box.empty_path_links;
        return Failure{error, "new/" + name};
    }
    // The link count (0 -> 1) is the file's own metadata (step 4 in maildir.hpp).
    if (::fsync(file.get()) != 0) {
        const std::error_code error = base::last_error();
        ::unlinkat(box.fresh.get(), name.c_str(), 0);  // not acknowledged: the retry makes a new copy
        return Failure{error, "new/" + name};
    }
    return Failure{};
}

// The classic Maildir protocol: tmp/<name>, fsync, rename into new/.
Failure rename_into_new(Mailbox& box, const spool::QueuedMessage& message, std::string_view recipient,
                        const std::string& name) {
    constexpr int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(box.tmp.get(), name.c_str(), flags, message_mode);
    // The name is this copy's at every attempt: tmp/<name> is left over from
    // one that crashed before its rename, never anybody else's file.
    if (fd < 0 && errno == EEXIST && ::unlinkat(box.tmp.get(), name.c_str(), 0) == 0)
        fd = ::openat(box.tmp.get(), name.c_str(), flags, message_mode);
    if (fd < 0) return {base::last_error(), "tmp/" + name};
    UniqueFd file(fd);
    std::error_code error = write_copy(file.get(), message, recipient);
    if (!error && ::fsync(file.get()) != 0) error = base::last_error();
    // rename(2) never follows a symlink in its last component, and new/ was opened with O_NOFOLLOW.
    if (!error && ::renameat(box.tmp.get(), name.c_str(), box.fresh.get(), name.c_str()) != 0)
        error = base::last_error();
    if (error) ::unlinkat(box.tmp.get(), name.c_str(), 0);  // a half-written copy must not linger in tmp/
    return {error, "new/" + name};
}

// Whether the copy `name` exists already, made by an attempt before a crash
// whose done mark was lost: in new/ (one fstatat), or in cur/ where a mail
// client moved it. Found, it is made durable first.
bool copy_exists(const Mailbox& box, const std::string& name, std::error_code& error) {
    struct stat st {};
    if (::fstatat(box.fresh.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        error = make_durable(box.fresh.get(), name.c_str());
        return !error;
    }
    if (errno != ENOENT) {
        error = base::last_error();
        return false;
    }
    return found_in_cur(box.mailbox(), name, error);
}

// The log says so: the copy was made before a crash, not now.
DeliveryOutcome already_delivered(const std::string& name) {
    return {DeliveryStatus::delivered, {}, "already delivered to maildir as " + name};
}

// FNV-1a, 64 bits: a stable digest of the recipient for the copy name (the
// same after an upgrade, unlike std::hash), not a defence against anyone.
std::uint64_t fnv1a(std::string_view text) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

// `text` with every octet that `keep` refuses written as \ooo, the escape the
// Maildir spec gives for the host part of a name.
template <typename Keep>
std::string escaped(std::string_view text, Keep keep) {
    std::string out;
    for (const char c : text) {
        if (keep(c)) {
            out += c;
            continue;
        }
        char octal[5];
        std::snprintf(octal, sizeof octal, "\\%03o", static_cast<unsigned char>(c));
        out += octal;
    }
    return out;
}

// The queue ID inside a copy's name: letters and digits only (spool IDs are),
// so no '/', ':' or '.' can reach the name's middle part.
std::string name_safe(std::string_view text) {
    return escaped(text, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

std::string maildir_host(std::string_view hostname) {
    return escaped(hostname, [](char c) { return c != '/' && c != ':'; });
}

MaildirCourier::MaildirCourier(std::filesystem::path root, MailboxPath mailbox_path, std::string hostname,
                               MaildirOptions options)
    : root_(std::move(root)),
      mailbox_path_(std::move(mailbox_path)),
      host_(maildir_host(hostname)),
      options_(options),
      cache_(std::make_unique<MailboxCache>(options.open_mailboxes)) {}

MaildirCourier::~MaildirCourier() = default;

std::string MaildirCourier::copy_name(const spool::QueuedMessage& message, std::string_view recipient) const {
    char digest[17];
    std::snprintf(digest, sizeof digest, "%016llx", static_cast<unsigned long long>(fnv1a(recipient)));
    return std::to_string(message.envelope.received_at) + ".Q" + name_safe(message.id) + "R" + digest + "." + host_;
}

// The kept mailbox if its names still lead to it, else one opened afresh (and kept).
std::shared_ptr<MaildirCourier::Mailbox> MaildirCourier::mailbox_for(const std::filesystem::path& relative,
                                                                      DeliveryOutcome& failure) {
    const std::string key = relative.string();
    if (auto kept = cache_->find(key); kept && kept->still_valid(root_)) return kept;
    auto opened = open_mailbox(root_, relative, failure);
    if (!opened) return nullptr;
    cache_->put(key, opened);
    return opened;
}

DeliveryOutcome MaildirCourier::deliver(const spool::QueuedMessage& message, std::string_view recipient) {
    const auto path = mailbox_path_(split_localpart(recipient), split_domain(recipient));
    const auto relative = below_root(root_, path);
    if (!relative) return {DeliveryStatus::temporary, {}, "mailbox " + path.string() + " is outside " + root_.string()};
    DeliveryOutcome failure;
    const auto box = mailbox_for(*relative, failure);
    if (!box) return failure;

    const std::string name = copy_name(message, recipient);
    // Only a message queued by an earlier run can have a copy already (a crash
    // after the copy, before its done mark was durable); within one run the
    // queue never asks twice for a copy it was told is delivered. So the
    // lookup, a scan of cur/ included, costs nothing on the common path.
    if (message.recovered) {
        std::error_code error;
        if (copy_exists(*box, name, error)) return already_delivered(name);
        if (error) return classify(error, (path / "cur").string());
    }
    std::optional<Failure> made;
    if (options_.anonymous_files && box->anonymous_files.load(std::memory_order_relaxed)) {
        bool unsupported = false;
        made = link_into_new(*box, message, recipient, name, unsupported);
        if (unsupported) {
            box->anonymous_files.store(false, std::memory_order_relaxed);
            made.reset();
        }
    }
    if (!made) made = rename_into_new(*box, message, recipient, name);
    if (made->error) return classify(made->error, (path / made->where).string());
    if (made->exists) {
        if (auto error = make_durable(box->fresh.get(), name.c_str())) return classify(error, (path / "new").string());
        return already_delivered(name);
    }
    // The new name is durable once an fsync of new/ that began after it has returned.
    if (auto error = box->fresh_sync.sync(box->fresh.get())) {
        ::unlinkat(box->fresh.get(), name.c_str(), 0);  // not acknowledged: the retry makes a new copy
        return classify(error, (path / "new").string());
    }
    return {DeliveryStatus::delivered, {}, "delivered to maildir"};
}

}  // namespace cartero::delivery
