// HashingPool: see hashing_pool.hpp.
#include "auth/hashing_pool.hpp"

namespace cartero::auth {

HashingPool::HashingPool(std::size_t threads, std::size_t queue_limit) : queue_limit_(queue_limit) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

HashingPool::~HashingPool() {
    std::deque<Job> never_started;
    {
        std::scoped_lock lock(mutex_);
        stopping_ = true;
        never_started.swap(queue_);
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
    for (auto& job : never_started) job(true);
}

bool HashingPool::try_submit(Job job) {
    {
        std::scoped_lock lock(mutex_);
        if (stopping_ || queue_.size() >= queue_limit_) return false;
        queue_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

void HashingPool::work() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        job(false);
    }
}

}  // namespace cartero::auth
