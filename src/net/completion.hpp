// Bridges a callback API whose callback may run on any thread (the auth pool,
// the spool committer) into an awaitable that resumes on the awaiting
// coroutine's own I/O thread, so session state is only ever touched there.
#pragma once

#include <memory>
#include <tuple>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cartero::net {

// `start(callback)` must arrange for `callback(Args...)` to be called exactly once.
template <typename... Args, typename Start>
boost::asio::awaitable<std::tuple<Args...>> on_completion(Start start) {
    namespace asio = boost::asio;
    auto initiation = [start = std::move(start)](auto handler) mutable {
        using Handler = decltype(handler);
        struct Pending {
            Handler handler;
            asio::executor_work_guard<asio::associated_executor_t<Handler>> work;
        };
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        auto pending = std::make_shared<Pending>(Pending{std::move(handler), std::move(work)});
        start([pending](Args... args) {
            auto executor = pending->work.get_executor();
            asio::post(executor, [pending, result = std::tuple<Args...>(std::move(args)...)]() mutable {
                pending->handler(std::move(result));
            });
        });
    };
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::tuple<Args...>)>(
        std::move(initiation), asio::use_awaitable);
}

}  // namespace cartero::net
