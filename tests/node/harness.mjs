// Test harness for `genstack serve`: starts the server as a child process,
// waits until it is ready, and stops it again (SIGTERM by PID, SIGKILL after
// 10 s). Every test file starts its own server in a before() hook and stops
// it in an after() hook.
//
// Environment:
//   GENSTACK_BINARY      the genstack executable (ctest passes the built one);
//                        default build/src/genstack under the repository root
//   GENSTACK_SHARED_DIR  the shared test data folder (ctest passes it);
//   GENSTACK_SHARED      the same (the name the C++ tests' README uses);
//                        default ../shared beside the repository root
//   GENSTACK_TEST_VERBOSE=1  echo the server's stderr while tests run

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..');
export const SHARED_DIR = path.resolve(
  process.env.GENSTACK_SHARED_DIR || process.env.GENSTACK_SHARED || path.join(REPO_ROOT, '..', 'shared'));
export const BINARY = path.resolve(REPO_ROOT, process.env.GENSTACK_BINARY || 'build/src/genstack');
export const MODEL_PATH = path.join(SHARED_DIR, 'models', 'stories260K.gguf');
export const MODEL_ID = 'stories260K';

// Generous bounds: tests never assert speed, only that nothing hangs.
export const START_TIMEOUT_MS = 120_000;
export const REQUEST_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

const live = new Set();
process.on('exit', () => {
  // Last resort if a test file crashed before its after() hook ran.
  for (const child of live) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `genstack serve MODEL... --port 0 ARGS...` and resolves once the
 * server printed its listening line and /health and /ready answer 200.
 *
 * @param {object} [opts]
 * @param {string[]} [opts.args]    extra flags (e.g. ['--parallel', '16', '--ctx', '2048'])
 * @param {string[]} [opts.models]  model arguments (paths or NAME=PATH); default stories260K
 * @param {number} [opts.port]      port to listen on; default 0 (any free port)
 * @returns {Promise<{baseURL: string, port: number, proc: import('node:child_process').ChildProcess,
 *                    stop: () => Promise<{code: number|null, signal: string|null, killed: boolean}>,
 *                    terminate: () => void, logs: () => string, exited: () => boolean}>}
 *   stop(): SIGTERM (once) by PID, wait up to 10 s, then SIGKILL; resolves with how it exited.
 *   terminate(): only send the SIGTERM.
 */
export async function startServer({ args = [], models = [MODEL_PATH], env = {}, port = 0 } = {}) {
  if (!existsSync(BINARY)) {
    throw new Error(`genstack binary not found at ${BINARY}: build it (cmake --build build) or set GENSTACK_BINARY`);
  }
  for (const m of models) {
    const file = m.includes('=') ? m.slice(m.indexOf('=') + 1) : m;
    // Model store references (not .gguf paths) are the server's to resolve.
    if (file.endsWith('.gguf') && !existsSync(file)) throw new Error(`model not found: ${file} (set GENSTACK_SHARED_DIR)`);
  }
  const argv = ['serve', ...models, '--port', String(port), ...args];
  const proc = spawn(BINARY, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);

  const verbose = process.env.GENSTACK_TEST_VERBOSE === '1';
  let stderrTail = '';
  let stdoutTail = '';
  const keep = (s, add) => (s + add).slice(-64 * 1024);
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    stderrTail = keep(stderrTail, d);
    if (verbose) process.stderr.write(d);
  });

  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(proc);
      resolve(exitInfo);
    });
  });
  const logs = () => `--- genstack ${argv.join(' ')}\n--- stdout (tail):\n${stdoutTail}\n--- stderr (tail):\n${stderrTail}`;

  // The listening line on stdout gives the port.
  const listening = new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      stdoutTail = keep(stdoutTail, d);
      if (verbose) process.stderr.write(d);
      buf += d;
      const m = /genstack: listening on (http:\/\/[^\s/]+):(\d+)/.exec(buf);
      if (m) resolve({ host: m[1], port: Number(m[2]) });
    });
    proc.on('error', (err) => reject(new Error(`cannot start ${BINARY}: ${err.message}`)));
    exited.then((e) => reject(new Error(`genstack serve exited (code ${e.code}, signal ${e.signal}) before listening\n${logs()}`)));
  });

  let killed = false;
  let terminated = false;
  const terminate = () => {
    if (terminated || exitInfo) return;
    terminated = true;
    try { process.kill(proc.pid, 'SIGTERM'); } catch { /* already gone */ }
  };
  const stop = async () => {
    if (exitInfo) return { ...exitInfo, killed };
    terminate(); // once: a second SIGTERM may mean "quit now" to a server
    let timer;
    const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve(null), STOP_GRACE_MS); });
    const res = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (!res) {
      killed = true;
      try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ }
      await exited;
    }
    return { ...exitInfo, killed };
  };

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const { host, port } = await withDeadline(listening, deadline, () => `no listening line within ${START_TIMEOUT_MS} ms\n${logs()}`);
    const baseURL = `${host}:${port}`;
    for (const route of ['/health', '/ready']) {
      for (;;) {
        if (exitInfo) throw new Error(`genstack serve exited while starting\n${logs()}`);
        if (Date.now() > deadline) throw new Error(`${route} not 200 within ${START_TIMEOUT_MS} ms\n${logs()}`);
        try {
          const r = await fetch(baseURL + route, { signal: AbortSignal.timeout(5000) });
          await r.arrayBuffer();
          if (r.status === 200) break;
        } catch { /* not yet */ }
        await sleep(50);
      }
    }
    return { baseURL, port, proc, stop, terminate, logs, exited: () => exitInfo !== null };
  } catch (err) {
    await stop();
    throw err;
  }
}

function withDeadline(promise, deadline, message) {
  return withTimeout(promise, Math.max(0, deadline - Date.now()), message);
}

/** Resolves like `promise`, or rejects with `message` after `ms` (the timer is cleared either way). */
export async function withTimeout(promise, ms, message) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(typeof message === 'function' ? message() : message)), ms);
  });
  try { return await Promise.race([promise, t]); } finally { clearTimeout(timer); }
}

/** An OpenAI client for the server: no retries (a 429 must reach the test), long timeout. */
export function openaiClient(baseURL) {
  return new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: 'sk-genstack-test', maxRetries: 0, timeout: REQUEST_TIMEOUT_MS });
}

/**
 * POSTs a JSON body (an object, or a string / Buffer sent as is) and returns
 * {status, headers, text, json} (json is undefined when the body is not JSON).
 */
export async function postJSON(baseURL, route, body, { timeout = REQUEST_TIMEOUT_MS, headers = {}, signal } = {}) {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const r = await fetch(baseURL + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
    signal: signal ?? AbortSignal.timeout(timeout),
  });
  return readResponse(r);
}

export async function getURL(baseURL, route, { timeout = REQUEST_TIMEOUT_MS } = {}) {
  const r = await fetch(baseURL + route, { signal: AbortSignal.timeout(timeout) });
  return readResponse(r);
}

async function readResponse(r) {
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, headers: r.headers, text, json };
}

/**
 * Reads a server-sent-events body and yields the data of each event (the
 * text after "data: "), including the final "[DONE]". Throws on lines that
 * are not SSE.
 */
export async function* sseEvents(body) {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = [];
      for (const line of event.split('\n')) {
        if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        else if (line === '' || line.startsWith(':') || /^(event|id|retry):/.test(line)) continue;
        else throw new Error(`not an SSE line: ${JSON.stringify(line)}`);
      }
      if (data.length) yield data.join('\n');
    }
  }
  buf += decoder.decode();
  if (buf.trim() !== '') throw new Error(`SSE stream ended inside an event: ${JSON.stringify(buf.slice(0, 200))}`);
}

/** Asserts the shape of an OpenAI error body: {"error":{"message","type","param","code"}}. */
export function assertOpenAIError(assert, json, { type, code } = {}) {
  assert.ok(json && typeof json === 'object', 'error body is a JSON object');
  assert.ok(json.error && typeof json.error === 'object', `body has an "error" object: ${JSON.stringify(json)}`);
  const e = json.error;
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0, 'error.message is not empty');
  assert.equal(typeof e.type, 'string');
  for (const k of ['param', 'code']) {
    assert.ok(k in e, `error.${k} present (null allowed)`);
    assert.ok(e[k] === null || typeof e[k] === 'string', `error.${k} is a string or null`);
  }
  if (type !== undefined) assert.equal(e.type, type);
  if (code !== undefined) assert.equal(e.code, code);
}

/** Asserts the genstack `timings` extension object. */
export function assertTimings(assert, timings, usage) {
  assert.ok(timings && typeof timings === 'object', `timings present: ${JSON.stringify(timings)}`);
  for (const k of ['queue_ms', 'prompt_ms', 'predicted_ms']) {
    assert.equal(typeof timings[k], 'number', `timings.${k} is a number`);
    assert.ok(Number.isFinite(timings[k]) && timings[k] >= 0, `timings.${k} >= 0`);
  }
  for (const k of ['prompt_n', 'cached_n', 'predicted_n']) {
    assert.ok(Number.isInteger(timings[k]) && timings[k] >= 0, `timings.${k} is an integer >= 0`);
  }
  if (usage) {
    assert.equal(timings.predicted_n, usage.completion_tokens, 'timings.predicted_n == usage.completion_tokens');
    assert.ok(timings.cached_n <= usage.prompt_tokens, 'timings.cached_n <= usage.prompt_tokens');
    // prompt_n counts either all prompt tokens or only those evaluated (not cached).
    assert.ok(timings.prompt_n === usage.prompt_tokens || timings.prompt_n + timings.cached_n === usage.prompt_tokens,
      `timings.prompt_n (${timings.prompt_n}) + cached_n (${timings.cached_n}) vs usage.prompt_tokens (${usage.prompt_tokens})`);
  }
}

/** Asserts OpenAI usage {prompt_tokens, completion_tokens, total_tokens}. */
export function assertUsage(assert, usage) {
  assert.ok(usage && typeof usage === 'object', 'usage present');
  assert.ok(Number.isInteger(usage.prompt_tokens) && usage.prompt_tokens > 0, 'usage.prompt_tokens > 0');
  assert.ok(Number.isInteger(usage.completion_tokens) && usage.completion_tokens >= 0, 'usage.completion_tokens >= 0');
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens, 'total = prompt + completion');
}

/** A prompt far longer than any context these tests use (about 10,000 tokens). */
export function overlongPrompt() {
  return 'Once upon a time there was a little dog named Spot who liked to run. '.repeat(600);
}

// A stop string from the greedy text: a word (>= 3 characters) whose first
// occurrence lies in the middle half of the text, else a 3-character slice from its middle.
export function pickStop(text) {
  const min = Math.max(1, Math.floor(text.length / 4));
  const max = Math.floor((text.length * 3) / 4);
  for (const m of text.matchAll(/[A-Za-z]{3,}/g)) {
    if (m.index >= min && m.index <= max && text.indexOf(m[0]) === m.index) return m[0];
  }
  for (let i = Math.floor(text.length / 2); i + 3 <= text.length; i++) {
    const s = text.slice(i, i + 3);
    if (s.trim() === s && s.length === 3 && text.indexOf(s) === i) return s;
  }
  throw new Error(`no usable stop string in ${JSON.stringify(text)}`);
}
