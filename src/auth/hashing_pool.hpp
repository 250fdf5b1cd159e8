// HashingPool: a fixed set of threads with a bounded queue for password
// verification. Each argon2id check takes 64 MiB and ~0.1 s of CPU; unbounded,
// a flood of AUTH commands would exhaust memory or starve the I/O threads
// (ARCHITECTURE: blocking work runs off the I/O threads). So at most
// `threads` verifications run and at most `queue_limit` wait; try_submit
// refuses the rest at once and the caller answers 454 4.7.0.
//
// Trust: runs jobs the Authenticator builds; no untrusted input of its own.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cartero::auth {

class HashingPool {
public:
    HashingPool(std::size_t threads, std::size_t queue_limit);
    // Stops the threads after the running jobs finish; queued jobs that never
    // started are run with `cancelled` = true so every caller gets an answer.
    ~HashingPool();
    HashingPool(const HashingPool&) = delete;
    HashingPool& operator=(const HashingPool&) = delete;

    using Job = std::function<void(bool cancelled)>;
    // False (and the job is dropped) when queue_limit jobs are already waiting.
    bool try_submit(Job job);

private:
    void work();

    const std::size_t queue_limit_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace cartero::auth
