// Helpers for the gateway tests: a gateway.yaml in a temp folder, `genstack
// gateway` as a child process (stopped by PID), and `genstack keys`.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BINARY, REPO_ROOT, START_TIMEOUT_MS, sleep, withTimeout } from './harness.mjs';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

/** A temp folder for the config and the key database; remove() deletes it. */
export function makeWorkDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gs-gateway-'));
  return { dir, db: path.join(dir, 'gateway.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a YAML file from an object (JSON is valid YAML) and returns its path. */
export function writeConfig(dir, config) {
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Runs `genstack keys --db DB ARGS...`; returns {status, stdout, stderr}. */
export function keys(db, ...args) {
  const r = spawnSync(BINARY, ['keys', '--db', db, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Creates a key of `tier` and returns {secret, id}. */
export function createKey(db, tier, name = 'test') {
  const r = keys(db, 'create', '--tier', tier, '--name', name);
  if (r.status !== 0) throw new Error(`keys create failed: ${r.stderr}`);
  const id = Number(/created key (\d+)/.exec(r.stderr)[1]);
  return { secret: r.stdout.trim(), id };
}

/**
 * Starts `genstack gateway --config FILE` (listen port 0) and resolves once /health answers.
 * Options for other commands that run the gateway (`genstack up`): `argv` (default
 * ['gateway', '--config', FILE]), `what` (its name in errors), `waitHealth` (default true),
 * `stopGraceMs` (SIGTERM to SIGKILL, default 10 s), `onStderr(chunk)`. An https gateway needs
 * `waitHealth: false` (fetch here does not trust a test CA).
 */
export async function startGateway(configFile, {
  argv = ['gateway', '--config', configFile], what = 'gateway', waitHealth = true, stopGraceMs = 10_000, onStderr,
} = {}) {
  const proc = spawn(BINARY, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-256 * 1024);
    if (onStderr) onStderr(String(d));
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => { live.delete(proc); resolve({ code, signal }); }));
  const listening = new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /gateway listening on (https?:\/\/[^\s]+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    exited.then((e) => reject(new Error(`${what} exited (${e.code}/${e.signal}) before listening: ${stderr}`)));
  });
  const stop = async () => {
    if (!live.has(proc)) return exited;
    process.kill(proc.pid, 'SIGTERM');
    const timer = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, stopGraceMs);
    const r = await exited;
    clearTimeout(timer);
    return r;
  };
  try {
    const baseURL = await withTimeout(listening, START_TIMEOUT_MS, `${what} did not print its listening line`);
    for (; waitHealth;) {
      try {
        const r = await fetch(`${baseURL}/health`);
        await r.arrayBuffer();
        if (r.status === 200) break;
      } catch { /* not yet */ }
      await sleep(50);
    }
    return { baseURL, proc, stop, logs: () => stderr };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The value of one series in a Prometheus text exposition, or undefined. */
export function metricValue(text, name, labels) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  const prefix = want ? `${name}{${want}} ` : `${name} `;
  for (const line of text.split('\n')) {
    if (line.startsWith(prefix)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * A tiny HTTP upstream for the gateway written in the test: `handler(req, res, body)`
 * answers POSTs; GET /health answers 200. With `tls: {key, cert}` (PEM) it speaks
 * HTTPS. Returns {url, port, close()}.
 */
export async function startFakeUpstream(handler, { tls } = {}) {
  const sockets = new Set();
  const serve = (req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => handler(req, res, Buffer.concat(parts).toString('utf8')));
  };
  const server = tls ? https.createServer(tls, serve) : http.createServer(serve);
  server.on(tls ? 'secureConnection' : 'connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, port, close };
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost (openssl CLI), valid
 * for a day: {key, cert} as PEM text and {keyFile, certFile} in `dir`.
 */
export function selfSignedCert(dir, name = 'test') {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), keyFile, certFile };
}

/** A port nothing listens on (bound once, then released). */
export async function closedPort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An OpenAI chat completion as a fake upstream answers it. */
export function fakeCompletion(model, text = 'hello', usage = { prompt_tokens: 3, completion_tokens: 2 }) {
  return {
    id: 'chatcmpl-fake', object: 'chat.completion', created: 0, model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/** Polls `check` until it returns true; the deadline only keeps a broken gateway from hanging the test. */
export async function eventually(what, check, deadlineMs = 60_000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await sleep(50);
  }
}
