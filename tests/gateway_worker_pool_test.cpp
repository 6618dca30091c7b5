// The bounded worker threads of the gateway.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "gateway/worker_pool.h"

namespace gs::gateway {
namespace {

TEST(GatewayWorkerPool, RefusesPastItsBoundAndReusesThreads) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0};
  {
    WorkerPool pool(2);
    ASSERT_TRUE(pool.try_run([&] { released.wait(), ++ran; }));
    ASSERT_TRUE(pool.try_run([&] { released.wait(), ++ran; }));
    EXPECT_EQ(pool.busy(), 2u);
    EXPECT_FALSE(pool.try_run([&] { ++ran; }));
    release.set_value();
    while (pool.busy() != 0) std::this_thread::yield();
    for (int i = 0; i < 100; ++i) {
      while (!pool.try_run([&] { ++ran; })) std::this_thread::yield();
    }
  }  // the destructor runs what was accepted
  EXPECT_EQ(ran, 102);
}

}  // namespace
}  // namespace gs::gateway
