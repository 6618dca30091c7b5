#!/usr/bin/env node
// Closed-loop load generator for `genstack serve` or any OpenAI-compatible
// server (llama-server, vLLM, ...). Node.js 20+, no dependencies.
//
//   node bench/serve/bench.mjs --url http://127.0.0.1:PORT --model ID [options]
//
// Scenarios (--scenario, comma-separated; default concurrency,prefix):
//   concurrency  for each client count (--clients 1,4,8,16) every client sends
//                --requests (3) streamed requests one after another: a ~20-token
//                prompt (different per client and request), --max-tokens (64),
//                temperature 0, ignore_eos. Aggregate generated tokens/s over
//                the scenario's wall time, time to first token p50/p99,
//                inter-token latency p50/p99.
//   prefix       a ~1,500-token shared prefix: request A cold, then request B
//                with the same prefix and another tail. Both TTFTs, their
//                ratio, timings.cached_n, and the server's
//                genstack_prefix_cache_hit_tokens_total before/after.
//   priority     saturate the server (start it with a small --parallel, e.g. 2):
//                --low (32) requests with priority 10 and --high (8) with
//                priority -10, interleaved, all at once. Queue wait p50/p95
//                per class (timings.queue_ms), end-to-end latency, 429s.
// Output: markdown tables; --json prints one JSON object instead.

import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const HELP = `usage: node bench/serve/bench.mjs --url URL --model ID [options]
  --url URL            server base URL, e.g. http://127.0.0.1:8080 (no /v1)
  --model ID           model id as the server names it (genstack: the file stem)
  --scenario LIST      concurrency,prefix,priority or all (default concurrency,prefix)
  --clients LIST       client counts for concurrency (default 1,4,8,16)
  --requests N         requests per client, one after another (default 3)
  --max-tokens N       tokens per request (default 64)
  --prompt-tokens N    approximate prompt length for concurrency (default 20)
  --prefix-tokens N    approximate shared prefix length for prefix (default 1500)
  --low N, --high N    request counts for priority (default 32 and 8)
  --endpoint E         completions (default) or chat
  --no-ignore-eos      do not send ignore_eos (then generations may end early)
  --api-key KEY        sent as a Bearer token
  --timeout-ms N       per-request limit (default 300000)
  --json               print JSON instead of markdown
  -h, --help`;

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      url: { type: 'string' },
      model: { type: 'string' },
      scenario: { type: 'string', default: 'concurrency,prefix' },
      clients: { type: 'string', default: '1,4,8,16' },
      requests: { type: 'string', default: '3' },
      'max-tokens': { type: 'string', default: '64' },
      'prompt-tokens': { type: 'string', default: '20' },
      'prefix-tokens': { type: 'string', default: '1500' },
      low: { type: 'string', default: '32' },
      high: { type: 'string', default: '8' },
      endpoint: { type: 'string', default: 'completions' },
      'no-ignore-eos': { type: 'boolean', default: false },
      'api-key': { type: 'string' },
      'timeout-ms': { type: 'string', default: '300000' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  console.error(`bench: ${err.message}\n${HELP}`);
  process.exit(2);
}
if (opts.help) { console.log(HELP); process.exit(0); }
if (!opts.url || !opts.model) { console.error(`bench: --url and --model are required\n${HELP}`); process.exit(2); }
const int = (name) => {
  const v = Number(opts[name]);
  if (!Number.isInteger(v) || v < 0) { console.error(`bench: --${name} must be a non-negative integer`); process.exit(2); }
  return v;
};
const BASE = opts.url.replace(/\/+$/, '');
const MODEL = opts.model;
const MAX_TOKENS = int('max-tokens');
const REQUESTS = int('requests');
const TIMEOUT_MS = int('timeout-ms');
const IGNORE_EOS = !opts['no-ignore-eos'];
const CHAT = opts.endpoint === 'chat';
if (!['chat', 'completions'].includes(opts.endpoint)) { console.error('bench: --endpoint is completions or chat'); process.exit(2); }
const CLIENTS = opts.clients.split(',').map(Number);
if (CLIENTS.some((c) => !Number.isInteger(c) || c < 1)) { console.error('bench: --clients is a list of positive integers'); process.exit(2); }
let scenarios = opts.scenario.split(',').map((s) => s.trim());
if (scenarios.includes('all')) scenarios = ['concurrency', 'prefix', 'priority'];
for (const s of scenarios) {
  if (!['concurrency', 'prefix', 'priority'].includes(s)) { console.error(`bench: unknown scenario ${s}`); process.exit(2); }
}
const headers = { 'content-type': 'application/json', ...(opts['api-key'] ? { authorization: `Bearer ${opts['api-key']}` } : {}) };

// ---------------------------------------------------------------- helpers

const WORDS = ('time day girl boy dog cat ball tree sun park house car bird fish cake toy box hat red big small happy '
  + 'sad little old new good kind funny brave quiet loud fast slow green blue yellow bright dark warm cold soft '
  + 'friend mom dad garden river hill boat book song game school flower apple shoe bed door window').split(' ');

// Deterministic words from a seed: prompts differ per client and request.
function words(n, seed) {
  let x = (seed * 2654435761 + 12345) >>> 0;
  const out = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x ^ (x >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    out.push(WORDS[x % WORDS.length]);
  }
  return out.join(' ');
}

function percentile(values, p) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

function body(prompt, extra = {}) {
  const b = { model: MODEL, max_tokens: MAX_TOKENS, temperature: 0, ...extra };
  if (IGNORE_EOS) b.ignore_eos = true;
  if (CHAT) b.messages = [{ role: 'user', content: prompt }];
  else b.prompt = prompt;
  return b;
}
const route = () => (CHAT ? '/v1/chat/completions' : '/v1/completions');

// Sends one streamed request; returns per-request measurements.
async function streamed(prompt, extra = {}) {
  const t0 = performance.now();
  const r = await fetch(BASE + route(), {
    method: 'POST',
    headers,
    body: JSON.stringify(body(prompt, { ...extra, stream: true, stream_options: { include_usage: true } })),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (r.status !== 200) {
    const text = await r.text();
    return { status: r.status, error: text.slice(0, 300), retryAfter: r.headers.get('retry-after') };
  }
  const decoder = new TextDecoder();
  let buf = '';
  let first = null;
  let last = null;
  const gaps = [];
  let chunks = 0;
  let usage = null;
  let timings = null;
  let finish = null;
  for await (const part of r.body) {
    buf += decoder.decode(part, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') continue;
        const j = JSON.parse(data);
        if (j.usage) usage = j.usage;
        if (j.timings) timings = j.timings;
        const c = j.choices?.[0];
        if (!c) continue;
        if (c.finish_reason) finish = c.finish_reason;
        const text = CHAT ? c.delta?.content : c.text;
        if (text) {
          const now = performance.now();
          if (first === null) first = now;
          else gaps.push(now - last);
          last = now;
          chunks++;
        }
      }
    }
  }
  const end = performance.now();
  return {
    status: 200,
    ttftMs: first === null ? null : first - t0,
    totalMs: end - t0,
    gaps,
    tokens: usage?.completion_tokens ?? chunks,
    promptTokens: usage?.prompt_tokens ?? null,
    timings,
    finish,
  };
}

async function nonStreamed(prompt, extra = {}) {
  const t0 = performance.now();
  const r = await fetch(BASE + route(), {
    method: 'POST', headers, body: JSON.stringify(body(prompt, extra)), signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await r.text();
  const totalMs = performance.now() - t0;
  if (r.status !== 200) return { status: r.status, error: text.slice(0, 300), retryAfter: r.headers.get('retry-after'), totalMs };
  const j = JSON.parse(text);
  return { status: 200, totalMs, usage: j.usage, timings: j.timings ?? null };
}

async function metricValue(name) {
  try {
    const r = await fetch(`${BASE}/metrics`, { headers, signal: AbortSignal.timeout(10_000) });
    if (r.status !== 200) return null;
    let total = null;
    for (const line of (await r.text()).split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (m && m[1] === name) total = (total ?? 0) + Number(m[3]);
    }
    return total;
  } catch {
    return null;
  }
}

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}

const fmtMs = (v) => (v === null || v === undefined ? 'n/a' : v >= 100 ? `${Math.round(v).toLocaleString('en-US')} ms` : `${v.toFixed(1)} ms`);
const fmtMs0 = (v) => (v === null || v === undefined ? 'n/a' : `${Math.round(v).toLocaleString('en-US')} ms`);
const round = (v, d = 2) => (v === null || v === undefined ? null : Number(v.toFixed(d)));

// ---------------------------------------------------------------- scenarios

async function concurrency() {
  const rows = [];
  // Size prompts in the model's tokens, not words: a synthetic vocabulary
  // can spend five tokens on a word. Calibrate on unrelated text.
  const probe = words(200, 4242);
  const cal = await nonStreamed(probe, { max_tokens: 1 });
  if (cal.status !== 200) fail(`prompt calibration: ${cal.status} ${cal.error}`);
  const tokensPerWord = cal.usage.prompt_tokens / 200;
  const promptWords = Math.max(1, Math.round(int('prompt-tokens') / tokensPerWord));
  for (const clients of CLIENTS) {
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: clients }, async (_, c) => {
      const out = [];
      for (let k = 0; k < REQUESTS; k++) {
        // ~prompt-tokens tokens of words that differ per client and request.
        const prompt = words(promptWords, clients * 1000 + c * 10 + k);
        out.push(await streamed(prompt));
      }
      return out;
    }));
    const wallMs = performance.now() - t0;
    const all = results.flat();
    const bad = all.filter((r) => r.status !== 200);
    if (bad.length) fail(`concurrency ${clients}: ${bad.length} requests failed, e.g. ${bad[0].status} ${bad[0].error}`);
    const tokens = all.reduce((a, r) => a + r.tokens, 0);
    const ttfts = all.map((r) => r.ttftMs).filter((v) => v !== null);
    const gaps = all.flatMap((r) => r.gaps);
    rows.push({
      clients,
      requests: all.length,
      generated_tokens: tokens,
      wall_s: round(wallMs / 1000, 3),
      tokens_per_s: round(tokens / (wallMs / 1000), 1),
      ttft_ms_p50: round(percentile(ttfts, 50), 1),
      ttft_ms_p99: round(percentile(ttfts, 99), 1),
      itl_ms_p50: round(percentile(gaps, 50), 2),
      itl_ms_p99: round(percentile(gaps, 99), 2),
      short_generations: all.filter((r) => r.tokens < MAX_TOKENS).length,
    });
  }
  return rows;
}

function concurrencyTable(rows) {
  const lines = [
    '| concurrent streams | aggregate generated tok/s | TTFT p50 | TTFT p99 | inter-token p50 | inter-token p99 |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(`| ${r.clients} | ${r.tokens_per_s.toFixed(1)} | ${fmtMs0(r.ttft_ms_p50)} | ${fmtMs0(r.ttft_ms_p99)} | ${
      r.itl_ms_p50 === null ? 'n/a' : `${r.itl_ms_p50.toFixed(1)} ms`} | ${r.itl_ms_p99 === null ? 'n/a' : `${r.itl_ms_p99.toFixed(1)} ms`} |`);
  }
  const short = rows.reduce((a, r) => a + r.short_generations, 0);
  if (short) lines.push('', `${short} generations ended before ${MAX_TOKENS} tokens (ignore_eos not honoured?).`);
  return lines.join('\n');
}

async function prefix() {
  const want = int('prefix-tokens');
  const nonce = Math.floor(Math.random() * 1e9);
  // Calibrate characters per token on unrelated text of the same kind (so the
  // real prefix stays cold), then size the prefix.
  const probe = `Story ${nonce + 1}. ${words(200, nonce + 1)}`;
  const cal = await nonStreamed(probe, { max_tokens: 1 });
  if (cal.status !== 200) fail(`prefix calibration: ${cal.status} ${cal.error}`);
  const charsPerToken = probe.length / cal.usage.prompt_tokens;
  const charsPerWord = probe.length / 200;
  const shared = `Story ${nonce}. ${words(Math.max(1, Math.round((want * charsPerToken) / charsPerWord)), nonce)}`;
  const a = await streamed(`${shared}\nThe end of part one. ${words(12, nonce + 2)}`, { max_tokens: 8 });
  if (a.status !== 200) fail(`prefix request A: ${a.status} ${a.error}`);
  const hitBefore = await metricValue('genstack_prefix_cache_hit_tokens_total');
  const b = await streamed(`${shared}\nThe end of part two. ${words(12, nonce + 3)}`, { max_tokens: 8 });
  if (b.status !== 200) fail(`prefix request B: ${b.status} ${b.error}`);
  const hitAfter = await metricValue('genstack_prefix_cache_hit_tokens_total');
  return {
    prompt_tokens_a: a.promptTokens,
    prompt_tokens_b: b.promptTokens,
    ttft_ms_a: round(a.ttftMs, 1),
    ttft_ms_b: round(b.ttftMs, 1),
    ttft_ratio_a_over_b: a.ttftMs && b.ttftMs ? round(a.ttftMs / b.ttftMs, 2) : null,
    cached_n_a: a.timings?.cached_n ?? null,
    cached_n_b: b.timings?.cached_n ?? null,
    prefix_cache_hit_tokens_before_b: hitBefore,
    prefix_cache_hit_tokens_after_b: hitAfter,
    prefix_cache_hit_tokens_delta: hitBefore !== null && hitAfter !== null ? hitAfter - hitBefore : null,
  };
}

function prefixTable(p) {
  const na = (v) => (v === null || v === undefined ? 'n/a' : String(v));
  return [
    '| request | prompt tokens | TTFT | timings.cached_n |',
    '| --- | ---: | ---: | ---: |',
    `| A (cold) | ${na(p.prompt_tokens_a)} | ${fmtMs(p.ttft_ms_a)} | ${na(p.cached_n_a)} |`,
    `| B (shared prefix) | ${na(p.prompt_tokens_b)} | ${fmtMs(p.ttft_ms_b)} | ${na(p.cached_n_b)} |`,
    '',
    `TTFT A / B: ${p.ttft_ratio_a_over_b === null ? 'n/a' : `${p.ttft_ratio_a_over_b}x`}. `
      + `genstack_prefix_cache_hit_tokens_total: ${p.prefix_cache_hit_tokens_before_b === null ? 'not exported'
        : `${p.prefix_cache_hit_tokens_before_b} before B, ${p.prefix_cache_hit_tokens_after_b} after (+${p.prefix_cache_hit_tokens_delta})`}.`,
  ].join('\n');
}

async function priority() {
  const low = int('low');
  const high = int('high');
  // Interleaved: spread the high-priority requests evenly among the low ones.
  const n = low + high;
  const order = Array.from({ length: n }, (_, i) => (Math.floor(((i + 1) * high) / n) > Math.floor((i * high) / n) ? 'high' : 'low'));
  const t0 = performance.now();
  const results = await Promise.all(order.map((cls, i) => nonStreamed(
    `Once upon a time, ${words(14, 77_000 + i)}`, { priority: cls === 'high' ? -10 : 10 })
    .then((r) => ({ ...r, cls }))
    .catch((err) => ({ status: 0, error: String(err), cls }))));
  const wallMs = performance.now() - t0;
  const classes = {};
  for (const cls of ['high', 'low']) {
    const rs = results.filter((r) => r.cls === cls);
    const ok = rs.filter((r) => r.status === 200);
    const queue = ok.map((r) => r.timings?.queue_ms).filter((v) => typeof v === 'number');
    const lat = ok.map((r) => r.totalMs);
    classes[cls] = {
      priority: cls === 'high' ? -10 : 10,
      sent: rs.length,
      ok: ok.length,
      rejected_429: rs.filter((r) => r.status === 429).length,
      other_errors: rs.filter((r) => r.status !== 200 && r.status !== 429).length,
      queue_ms_p50: round(percentile(queue, 50), 1),
      queue_ms_p95: round(percentile(queue, 95), 1),
      latency_ms_p50: round(percentile(lat, 50), 1),
      latency_ms_p95: round(percentile(lat, 95), 1),
    };
  }
  const err = results.find((r) => r.status !== 200 && r.status !== 429);
  return { wall_s: round(wallMs / 1000, 3), classes, example_error: err ? `${err.status} ${err.error}` : null };
}

function priorityTable(p) {
  const lines = [
    '| class | priority | sent | 200 | 429 | queue wait p50 | queue wait p95 | latency p50 | latency p95 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [cls, c] of Object.entries(p.classes)) {
    lines.push(`| ${cls} | ${c.priority} | ${c.sent} | ${c.ok} | ${c.rejected_429} | ${fmtMs(c.queue_ms_p50)} | ${fmtMs(c.queue_ms_p95)} | ${fmtMs(c.latency_ms_p50)} | ${fmtMs(c.latency_ms_p95)} |`);
  }
  const other = Object.values(p.classes).reduce((a, c) => a + c.other_errors, 0);
  if (other) lines.push('', `${other} requests failed otherwise, e.g. ${p.example_error}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- main

const report = {
  url: BASE, model: MODEL, endpoint: route(), max_tokens: MAX_TOKENS, requests_per_client: REQUESTS,
  ignore_eos: IGNORE_EOS, date: new Date().toISOString(),
};
try {
  const h = await fetch(`${BASE}/v1/models`, { headers, signal: AbortSignal.timeout(10_000) });
  if (h.status !== 200) fail(`GET /v1/models: ${h.status}`);
} catch (err) {
  fail(`cannot reach ${BASE}: ${err.message}`);
}
// One warm-up request, not measured.
const warm = await streamed('Once upon a time', { max_tokens: 4 });
if (warm.status !== 200) fail(`warm-up request: ${warm.status} ${warm.error}`);

const out = [];
if (scenarios.includes('concurrency')) {
  report.concurrency = await concurrency();
  out.push(`### Concurrent streams\n\nClosed-loop clients, ${REQUESTS} requests each, ~${int('prompt-tokens')}-token prompts, `
    + `max_tokens ${MAX_TOKENS}, temperature 0, streamed${IGNORE_EOS ? ', ignore_eos' : ''}.\n\n${concurrencyTable(report.concurrency)}`);
}
if (scenarios.includes('prefix')) {
  report.prefix = await prefix();
  out.push(`### Shared prefix\n\n~${int('prefix-tokens')}-token shared prefix; A cold, then B with another tail.\n\n${prefixTable(report.prefix)}`);
}
if (scenarios.includes('priority')) {
  report.priority = await priority();
  out.push(`### Priority under saturation\n\n${int('low')} requests with priority 10 and ${int('high')} with priority -10, `
    + `interleaved and sent at once, max_tokens ${MAX_TOKENS}; queue wait from timings.queue_ms. Wall time ${report.priority.wall_s} s.\n\n${priorityTable(report.priority)}`);
}
if (opts.json) console.log(JSON.stringify(report, null, 2));
else console.log(`## ${MODEL} at ${BASE}\n\n${out.join('\n\n')}`);
