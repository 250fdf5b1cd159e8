// Memory spool: the Spool contract without durability, for tests and for
// components that need a spool but not a disk (STYLE rule 11: the second
// implementation, used instead of mocks).
//
// commit() completes on the caller's thread, at once. recover() returns what
// is still queued in this object, so a test can "restart" by building a new
// DeliveryQueue over the same spool.
//
// Trust: as spool.hpp. Privileges: none.
#include <algorithm>
#include <map>
#include <mutex>

#include "spool/queue_id.hpp"
#include "spool/spool.hpp"

namespace cartero::spool {
namespace {

class MemorySpool final : public Spool {
public:
    std::string new_id() override { return ids_.next(); }

    void commit(std::string id, Envelope envelope, std::shared_ptr<const std::string> data,
                std::function<void(std::error_code)> done) override {
        {
            std::lock_guard lock(mutex_);
            std::vector<bool> none(envelope.recipients.size());
            messages_[id] = QueuedMessage{id, std::move(envelope), std::move(none), std::move(data)};
        }
        done({});
    }

    void mark_done(const std::string& id, std::size_t index) override {
        std::lock_guard lock(mutex_);
        const auto found = messages_.find(id);
        if (found == messages_.end() || index >= found->second.done.size()) return;
        auto& done = found->second.done;
        done[index] = true;
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) messages_.erase(found);
    }

    void save_state(const std::string& id, const DeliveryState& state) override {
        std::lock_guard lock(mutex_);
        if (const auto found = messages_.find(id); found != messages_.end()) found->second.state = state;
    }

    std::vector<QueuedMessage> recover() override {
        std::lock_guard lock(mutex_);
        std::vector<QueuedMessage> queued;
        for (const auto& [id, message] : messages_) queued.push_back(message);
        return queued;
    }

    void close() override {}

private:
    QueueIdGenerator ids_;
    std::mutex mutex_;
    std::map<std::string, QueuedMessage> messages_;
};

}  // namespace

std::unique_ptr<Spool> make_memory_spool() { return std::make_unique<MemorySpool>(); }

}  // namespace cartero::spool
