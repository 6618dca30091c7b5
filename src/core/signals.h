// Shutdown signals for the long-running commands (serve, gateway).
#pragma once

#include <signal.h>

namespace gs {

// Blocks SIGINT and SIGTERM in the calling thread and in the threads it
// starts afterwards, so that only the thread that waits for them (with
// sigtimedwait on the returned set) sees them, never a worker; ignores
// SIGPIPE (a peer that went away is an error return, not a crash).
// Call before starting any thread.
sigset_t block_shutdown_signals();

}  // namespace gs
