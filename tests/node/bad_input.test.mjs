// Hostile and broken input over raw HTTP (fetch and net sockets): the server
// answers with OpenAI error objects, never crashes, and keeps serving.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import {
  startServer, postJSON, getURL, sseEvents, MODEL_ID, REQUEST_TIMEOUT_MS, assertOpenAIError, assertUsage,
  overlongPrompt, sleep, withTimeout,
} from './harness.mjs';

const CTX = 256; // small, so that "generate to the end of the context" is short
const T = { timeout: REQUEST_TIMEOUT_MS * 2 };
const MiB = 1024 * 1024;
const chatBody = (extra = {}) => ({ model: MODEL_ID, messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 4, ...extra });

describe('bad input', () => {
  let server;
  // --parallel 1: the context of the one sequence is --ctx, however a server
  // splits its context among parallel sequences.
  before(async () => { server = await startServer({ args: ['--parallel', '1', '--ctx', String(CTX)] }); });
  after(async () => { await server?.stop(); });

  async function assertServes() {
    assert.ok(!server.exited(), `server still running\n${server.logs()}`);
    const r = await postJSON(server.baseURL, '/v1/chat/completions', chatBody(), { timeout: 60_000 });
    assert.equal(r.status, 200, `a normal request still works: ${r.text}`);
    assert.equal(r.json.object, 'chat.completion');
  }

  async function expect400(route, body, what) {
    const r = await postJSON(server.baseURL, route, body);
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${what}: JSON error`);
    assertOpenAIError(assert, r.json, { type: 'invalid_request_error' });
    return r.json;
  }

  test('malformed JSON: 400 invalid_request_error', T, async () => {
    for (const body of ['{"model": ', '{model: "x"}', 'null', '[]', '"string"', '', '{"model":"stories260K","messages":[]}}', '\u0000\u0001']) {
      await expect400('/v1/chat/completions', body, `body ${JSON.stringify(body)}`);
    }
    await expect400('/v1/completions', '{"prompt": "a",', 'completions, truncated JSON');
    await assertServes();
  });

  test('wrong types and missing fields: 400', T, async () => {
    const cases = [
      ['messages a number', { messages: 5 }],
      ['messages missing', { messages: undefined }],
      ['model missing', { model: undefined }],
      ['model a number', { model: 7 }],
      ['content a number', { messages: [{ role: 'user', content: 5 }] }],
      ['role unknown', { messages: [{ role: 'wizard', content: 'hi' }] }],
      ['max_tokens a string', { max_tokens: 'ten' }],
      ['max_tokens fractional', { max_tokens: 2.5 }],
      ['temperature a string', { temperature: 'hot' }],
      ['temperature negative', { temperature: -1 }],
      ['top_p above 1', { top_p: 1.5 }],
      ['stream a string', { stream: 'yes' }],
      ['stop a number', { stop: 5 }],
      ['n a string', { n: 'two' }],
      ['logprobs a string', { logprobs: 'yes' }],
      ['response_format unknown type', { response_format: { type: 'xml' } }],
      ['priority a string', { priority: 'high' }],
    ];
    for (const [what, extra] of cases) await expect400('/v1/chat/completions', chatBody(extra), what);
    await expect400('/v1/completions', { model: MODEL_ID, prompt: [1, 'a'], max_tokens: 2 }, 'completions prompt [1, "a"]');
    await expect400('/v1/completions', { model: MODEL_ID, max_tokens: 2 }, 'completions without prompt');
    await assertServes();
  });

  test('unknown model: 404 model_not_found', T, async () => {
    const r = await postJSON(server.baseURL, '/v1/chat/completions', chatBody({ model: 'gpt-17' }));
    assert.equal(r.status, 404);
    assertOpenAIError(assert, r.json, { code: 'model_not_found' });
    const r2 = await getURL(server.baseURL, '/v1/models/gpt-17');
    assert.equal(r2.status, 404);
    assertOpenAIError(assert, r2.json, { code: 'model_not_found' });
  });

  test('unknown route 404; wrong method 404 or 405', T, async () => {
    const r = await getURL(server.baseURL, '/v1/nope');
    assert.equal(r.status, 404);
    const r2 = await getURL(server.baseURL, '/v1/chat/completions');
    assert.ok([404, 405].includes(r2.status), `GET /v1/chat/completions: ${r2.status}`);
  });

  test('negative max_tokens: 400; huge max_tokens: 200, stops at the context end with "length"', T, async () => {
    const e = await expect400('/v1/chat/completions', chatBody({ max_tokens: -1 }), 'max_tokens -1');
    assert.ok(e.error.message.includes('max_tokens') || e.error.param === 'max_tokens', `message or param names max_tokens: ${JSON.stringify(e)}`);
    await expect400('/v1/completions', { model: MODEL_ID, prompt: 'a', max_tokens: -100 }, 'completions max_tokens -100');
    for (const route of ['/v1/completions', '/v1/chat/completions']) {
      const body = route === '/v1/completions'
        ? { model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 1e9, temperature: 0, ignore_eos: true }
        : chatBody({ max_tokens: 1e9, temperature: 0, ignore_eos: true });
      const r = await postJSON(server.baseURL, route, body);
      assert.equal(r.status, 200, `${route} max_tokens 1e9: ${r.text.slice(0, 300)}`);
      assertUsage(assert, r.json.usage);
      assert.equal(r.json.choices[0].finish_reason, 'length');
      assert.ok(r.json.usage.total_tokens <= CTX, `prompt + completion (${r.json.usage.total_tokens}) fit the context (${CTX})`);
      assert.ok(r.json.usage.total_tokens >= CTX - 8, `generation ran to the context end (${r.json.usage.total_tokens} of ${CTX})`);
    }
  });

  test('prompt longer than the context: 400 context_length_exceeded', T, async () => {
    for (const [route, body] of [
      ['/v1/completions', { model: MODEL_ID, prompt: overlongPrompt(), max_tokens: 4 }],
      ['/v1/chat/completions', chatBody({ messages: [{ role: 'user', content: overlongPrompt() }] })],
    ]) {
      const r = await postJSON(server.baseURL, route, body);
      assert.equal(r.status, 400, route);
      assertOpenAIError(assert, r.json, { type: 'invalid_request_error', code: 'context_length_exceeded' });
      const nums = (r.json.error.message.match(/\d+/g) ?? []).map(Number);
      assert.ok(nums.includes(CTX), `message states the context size ${CTX}: ${r.json.error.message}`);
      assert.ok(nums.some((n) => n > CTX), `message states the prompt length: ${r.json.error.message}`);
    }
  });

  test('invalid UTF-8 inside a JSON string: 400', T, async () => {
    const head = Buffer.from(`{"model":"${MODEL_ID}","max_tokens":2,"messages":[{"role":"user","content":"ab`);
    const tail = Buffer.from('cd"}]}');
    for (const [what, bad] of [
      ['0xff 0xfe', [0xff, 0xfe]],
      ['lone continuation byte', [0x80]],
      ['overlong "/"', [0xc0, 0xaf]],
      ['UTF-16 surrogate encoded', [0xed, 0xa0, 0x80]],
      ['truncated 3-byte sequence', [0xe2, 0x82]],
      ['code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ]) {
      await expect400('/v1/chat/completions', Buffer.concat([head, Buffer.from(bad), tail]), what);
    }
    // Valid multi-byte UTF-8 is fine.
    const ok = await postJSON(server.baseURL, '/v1/chat/completions', chatBody({ messages: [{ role: 'user', content: 'héllo wörld ✓ 😀' }] }));
    assert.equal(ok.status, 200, ok.text);
    await assertServes();
  });

  test('body over 8 MiB: 413 (Content-Length)', T, async () => {
    const res = await sendLargeBody(server.port, 9 * MiB, { chunked: false });
    assert.equal(res.status, 413, `9 MiB body: ${res.summary}`);
    if (res.json) assertOpenAIError(assert, res.json);
    await assertServes();
  });

  // A server that answers 413 before reading the whole body must close the
  // connection gracefully (shut down its write side, drain the input for a
  // moment, then close), or the client may see a reset instead of the 413.
  test('body over 8 MiB: 413 (chunked transfer encoding; 411 also allowed)', T, async () => {
    const res = await sendLargeBody(server.port, 9 * MiB, { chunked: true });
    assert.ok([413, 411].includes(res.status), `9 MiB chunked body: ${res.summary}`);
    await assertServes();
  });

  test('a 7 MiB body (under the limit) is accepted', T, async () => {
    const json = JSON.stringify(chatBody());
    const body = Buffer.concat([Buffer.from(json.slice(0, -1)), Buffer.alloc(7 * MiB, ' '), Buffer.from('}')]);
    const r = await postJSON(server.baseURL, '/v1/chat/completions', body);
    assert.equal(r.status, 200, r.text.slice(0, 300));
  });

  test('garbage request line and huge headers: error or close, server survives', T, async () => {
    // [bytes, whether a 2xx answer is acceptable]; a close without an answer always is.
    for (const [bytes, okAllowed] of [
      ['GARBAGE\r\n\r\n', false],
      ['POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n', false],
      ['POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n', false],
      ['POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', false],
      [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(256 * 1024)}\r\n\r\n`, true],
      ['GET /health HTTP/9.9\r\n\r\n', false],
      ['\r\n\r\n\r\n', false],
    ]) {
      const res = await rawExchange(server.port, Buffer.from(bytes), 5_000);
      if (res.status !== null && !(okAllowed && res.status === 200)) {
        assert.ok(res.status >= 400 && res.status < 600 && res.status !== 500, `${JSON.stringify(bytes.slice(0, 60))}: ${res.status}`);
      }
    }
    await assertServes();
  });

  test('clients that disconnect mid-stream are cancelled; the server keeps serving', T, async () => {
    // fetch + abort after two events.
    for (let i = 0; i < 3; i++) {
      const ac = new AbortController();
      const r = await fetch(`${server.baseURL}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 1e6, ignore_eos: true, stream: true }),
        signal: ac.signal,
      });
      assert.equal(r.status, 200);
      let n = 0;
      try {
        for await (const ev of sseEvents(r.body)) { // eslint-disable-line no-unused-vars
          if (++n === 2) ac.abort();
        }
      } catch (err) {
        assert.equal(err.name, 'AbortError');
      }
    }
    // A raw socket closed abruptly mid-stream.
    const sock = net.connect(server.port, '127.0.0.1');
    await once(sock, 'connect');
    const body = JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1e6, ignore_eos: true, stream: true });
    sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await once(sock, 'data');
    sock.resetAndDestroy();
    await sleep(100);
    await assertServes();
  });

  test('1,000 idle connections do not block a real request', { timeout: 240_000 }, async (t) => {
    const socks = [];
    let errors = 0;
    let closedByServer = 0;
    const connected = [];
    for (let i = 0; i < 1000; i++) {
      const s = net.connect({ port: server.port, host: '127.0.0.1' });
      s.on('error', () => { errors++; });
      s.on('data', () => {});
      socks.push(s);
      connected.push(new Promise((resolve) => {
        s.on('connect', resolve);
        s.on('close', () => { if (!s.closedByUs) closedByServer++; resolve(); });
      }));
    }
    try {
      await withTimeout(Promise.all(connected), 60_000, '1,000 connections not established within 60 s');
      assert.equal(errors, 0, 'all 1,000 connections established without error');
      const r = await postJSON(server.baseURL, '/v1/chat/completions', chatBody({ max_tokens: 8 }), { timeout: 60_000 });
      assert.equal(r.status, 200, `chat with 1,000 idle connections open: ${r.text.slice(0, 300)}`);
      t.diagnostic(`${closedByServer} of 1000 idle connections closed by the server meanwhile`);
    } finally {
      for (const s of socks) { s.closedByUs = true; s.destroy(); }
    }
    await sleep(200);
    const m = await getURL(server.baseURL, '/metrics', { timeout: 30_000 });
    assert.equal(m.status, 200);
    assert.match(m.text, /^# (HELP|TYPE) /m);
    await assertServes();
  });
});

// Sends a POST whose body is `size` bytes of valid JSON (a long string), with
// Content-Length or chunked; stops sending as soon as a response arrives.
// Resolves {status, json, summary}.
async function sendLargeBody(port, size, { chunked }) {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await once(sock, 'connect');
  const pre = Buffer.from(`{"model":"${MODEL_ID}","max_tokens":1,"messages":[{"role":"user","content":"`);
  const post = Buffer.from('"}]}');
  const fill = size - pre.length - post.length;
  const reader = collectResponse(sock, 60_000);
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${
    chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`}\r\n\r\n`;
  const frame = (b) => (chunked ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : b);
  const write = async (b) => {
    if (reader.got() || sock.destroyed) return false;
    if (!sock.write(b)) await Promise.race([once(sock, 'drain'), once(sock, 'close'), reader.done]);
    return !reader.got() && !sock.destroyed;
  };
  let writeError = null;
  try {
    await write(Buffer.from(head));
    await write(frame(pre));
    // A server that checks Content-Length answers before the body arrives.
    await Promise.race([reader.done, sleep(chunked ? 0 : 300)]);
    const piece = Buffer.alloc(256 * 1024, 'a');
    for (let sent = 0; sent < fill;) {
      const n = Math.min(piece.length, fill - sent);
      if (!(await write(frame(piece.subarray(0, n))))) break;
      sent += n;
    }
    await write(frame(post));
    if (chunked) await write(Buffer.from('0\r\n\r\n'));
  } catch (err) {
    writeError = err;
  }
  const res = await reader.done;
  sock.destroy();
  return { ...res, summary: `status ${res.status}, ${res.raw.slice(0, 200)}${writeError ? `, write error ${writeError.code}` : ''}` };
}

// Writes raw bytes, returns {status, raw} of whatever comes back (status null
// when the server closed without an HTTP response).
async function rawExchange(port, bytes, timeoutMs) {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await once(sock, 'connect');
  const reader = collectResponse(sock, timeoutMs);
  sock.write(bytes);
  const res = await reader.done;
  sock.destroy();
  return res;
}

// Collects one HTTP response from a socket: resolves when its body is complete
// (Content-Length), the socket closes, or the timeout passes.
function collectResponse(sock, timeoutMs) {
  let buf = Buffer.alloc(0);
  let got = false;
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  const finish = () => {
    const raw = buf.toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
    const i = raw.indexOf('\r\n\r\n');
    let json;
    if (i >= 0) { try { json = JSON.parse(raw.slice(i + 4)); } catch { json = undefined; } }
    resolve({ status: m ? Number(m[1]) : null, raw, json });
  };
  const timer = setTimeout(finish, timeoutMs);
  sock.on('data', (d) => {
    got = true;
    buf = Buffer.concat([buf, d]);
    const raw = buf.toString('latin1');
    const i = raw.indexOf('\r\n\r\n');
    if (i < 0) return;
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(raw.slice(0, i));
    if (cl && buf.length >= i + 4 + Number(cl[1])) { clearTimeout(timer); finish(); }
  });
  sock.on('close', () => { clearTimeout(timer); finish(); });
  return { done, got: () => got };
}
