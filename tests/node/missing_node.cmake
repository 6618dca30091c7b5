# ctest's node_integration when CMake found no `node`: fail with the fix.
message(FATAL_ERROR "node_integration: Node.js (node, npm) not found: run scripts/install.sh --deps-only, then re-run cmake")
