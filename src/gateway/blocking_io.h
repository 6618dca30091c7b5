// Blocking use of Asio from the calling thread with a deadline per wait,
// shared by the upstream client and the Redis client.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>

namespace gs::gateway {

// Starts one asynchronous operation (start(handler)), runs `ioc` until it
// completes or `timeout` passes; then closes `socket` (which ends the
// operation) and returns asio::error::timed_out.
template <typename Socket, typename Start>
boost::system::error_code run_with_timeout(boost::asio::io_context& ioc, Socket& socket,
                                           std::chrono::milliseconds timeout, Start start) {
  boost::system::error_code result = boost::asio::error::would_block;
  start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run_for(timeout);
  if (result == boost::asio::error::would_block) {
    boost::system::error_code ignored;
    socket.close(ignored);
    ioc.restart();
    ioc.run();
    return boost::asio::error::timed_out;
  }
  return result;
}

}  // namespace gs::gateway
