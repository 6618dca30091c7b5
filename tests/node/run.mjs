// Runs the integration tests of `genstack serve` (ctest's node_integration):
//   node tests/node/run.mjs [NAME...]   # NAME: a test file name part, e.g. ollama
// One test file at a time: each starts its own server.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const fail = (msg) => { console.error(`node_integration: ${msg}`); process.exit(1); };

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 10)) fail(`Node.js ${process.versions.node} is too old: 20.10 or newer is needed`);
for (const dep of ['openai', 'ollama', 'ajv']) {
  if (!existsSync(path.join(here, 'node_modules', dep, 'package.json'))) {
    fail(`tests/node/node_modules is missing (no ${dep}): run scripts/install.sh --deps-only (or npm ci in tests/node)`);
  }
}
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort()
  .map((f) => path.join(here, f));
if (files.length === 0) fail(`no test file matches ${wanted.join(' ')}`);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
if (r.error) fail(r.error.message);
process.exit(r.status ?? 1);
