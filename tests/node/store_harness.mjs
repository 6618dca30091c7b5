// Harness of the model store's integration tests (store_*.test.mjs): the
// `genstack` CLI as a child process with its own GENSTACK_HOME, Debian's
// docker-registry (CNCF distribution 2.8) on a free port, an HTTP proxy in
// front of it that counts requests and injects faults (cut responses,
// flipped bytes, 500/429 answers), a Hugging Face stand-in, and an OCI
// layout writer for artifacts in Docker's model-spec format.
//
// Every server here is started on 127.0.0.1 and stopped by its handle (the
// registry by PID); every temp directory is removed by cleanup().
//
// Environment: as harness.mjs (GENSTACK_BINARY, GENSTACK_SHARED_DIR,
// GENSTACK_TEST_VERBOSE=1 echoes child output).

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BINARY, MODEL_PATH, REPO_ROOT, SHARED_DIR, sleep } from './harness.mjs';

export { BINARY, MODEL_PATH, REPO_ROOT, SHARED_DIR, sleep };

const verbose = process.env.GENSTACK_TEST_VERBOSE === '1';
export const CLI_TIMEOUT_MS = 180_000; // a bound against hangs, never a speed check
export const PROMPT = 'Once upon a time';
// Greedy and a fixed token count: the same model gives the same bytes.
export const RUN_FLAGS = ['-n', '32', '--temp', '0', '--local'];

const onPath = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

/** Why the harness cannot run here (docker-registry / skopeo missing), or null. */
export function missingServers({ skopeo = false } = {}) {
  if (!onPath('docker-registry')) return 'docker-registry is not installed (scripts/install.sh installs it)';
  if (skopeo && !onPath('skopeo')) return 'skopeo is not installed (scripts/install.sh installs it)';
  return null;
}

/** Why the store tests cannot run here (a string for describe's skip), or null. */
export function missingTools({ skopeo = false } = {}) {
  const servers = missingServers({ skopeo });
  if (servers) return servers;
  if (!existsSync(BINARY)) return `genstack binary not found at ${BINARY} (build it or set GENSTACK_BINARY)`;
  if (!existsSync(MODEL_PATH)) return `test model not found: ${MODEL_PATH} (set GENSTACK_SHARED_DIR)`;
  const help = spawnSync(BINARY, ['--help'], { encoding: 'utf8' }).stdout ?? '';
  if (!/^\s+pull\s/m.test(help)) return 'this genstack has no `pull` command (the model store is not built in)';
  return null;
}

const temps = new Set();
/** A fresh temp directory, removed by cleanup(). */
export function tempDir(prefix = 'gs-store-') {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.add(dir);
  return dir;
}
export function removeTemp(dir) {
  rmSync(dir, { recursive: true, force: true });
  temps.delete(dir);
}

const stoppers = new Set();
/** Stops every server this file started and removes its temp directories. */
export async function cleanup() {
  for (const stop of [...stoppers]) await stop();
  for (const dir of [...temps]) removeTemp(dir);
}

export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// ---------------------------------------------------------------- genstack CLI

/**
 * Runs `genstack ARGS` with GENSTACK_HOME=home; resolves {code, signal,
 * stdout, stderr}. Asynchronous on purpose: the proxies run in this process.
 * opts.onSpawn(child) sees the process (to kill it mid-pull).
 */
export function genstack(args, { home, env = {}, timeout = CLI_TIMEOUT_MS, onSpawn, input, wrap = [] } = {}) {
  return new Promise((resolve, reject) => {
    // wrap: a command to run genstack under, e.g. ['prlimit', '--fsize=1000'].
    const argv = [...wrap, BINARY, ...args];
    const child = spawn(argv[0], argv.slice(1), {
      cwd: REPO_ROOT,
      // A value of undefined removes the variable.
      env: Object.fromEntries(Object.entries({ ...process.env, GENSTACK_HOME: home, GENSTACK_RETRY_BASE_MS: '50', ...env })
        .filter(([, v]) => v !== undefined)),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      if (verbose) process.stderr.write(d);
    });
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`genstack ${args.join(' ')} did not finish within ${timeout} ms\n${stderr.slice(-4000)}`));
    }, timeout);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (onSpawn) onSpawn(child);
  });
}

/** genstack ARGS that must succeed; returns its stdout. */
export async function genstackOk(args, opts) {
  const r = await genstack(args, opts);
  if (r.code !== 0) {
    throw new Error(`genstack ${args.join(' ')} exited ${r.code} (${r.signal ?? 'no signal'})\n` +
      `stdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-4000)}`);
  }
  return r.stdout;
}

/** The last non-empty stdout line (pull/push/package print the manifest digest there). */
export const lastLine = (text) => text.trim().split('\n').filter(Boolean).pop() ?? '';

/** Asserts a failure: exit 1 and a one-line `genstack: error: ...` on stderr; returns that line. */
export function assertCliError(assert, r, what) {
  assert.equal(r.code, 1, `${what}: exit 1, got ${r.code} (${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('genstack: error:'));
  assert.equal(lines.length, 1, `${what}: one "genstack: error:" line on stderr, got:\n${r.stderr}`);
  assert.ok(lines[0].length > 'genstack: error: '.length + 5, `${what}: the error says something: ${lines[0]}`);
  return lines[0];
}

/** A GENSTACK_HOME of its own, plus the files package needs (licence, chat template). */
export function makeHome() {
  const dir = tempDir('gs-home-');
  const home = path.join(dir, 'home');
  mkdirSync(home);
  const license = path.join(dir, 'LICENSE');
  writeFileSync(license, 'MIT License\n\nCopyright (c) the genstack test suite\n');
  const template = path.join(dir, 'T.jinja');
  writeFileSync(template, '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:');
  return { dir, home, license, template };
}

/** Blob files in a store: {complete: [hex...], partial: [names...], other: [names...]}. */
export function storeBlobs(home) {
  const dir = path.join(home, 'models', 'blobs', 'sha256');
  const names = existsSync(dir) ? readdirSync(dir) : [];
  return {
    complete: names.filter((n) => /^[0-9a-f]{64}$/.test(n)),
    partial: names.filter((n) => n.endsWith('.partial')),
    other: names.filter((n) => !/^[0-9a-f]{64}(\.partial)?$/.test(n)),
  };
}

/** Checks every complete blob hashes to its name; returns the names that do not. */
export function badBlobs(home) {
  const dir = path.join(home, 'models', 'blobs', 'sha256');
  return storeBlobs(home).complete.filter((hex) => sha256(readFileSync(path.join(dir, hex))) !== `sha256:${hex}`);
}

/** `genstack list --json` parsed (an array of models, or {models: [...]}) flattened to its tag strings. */
export async function listedTags(home) {
  const out = await genstackOk(['list', '--json'], { home });
  const json = JSON.parse(out || '[]');
  const models = Array.isArray(json) ? json : json.models ?? [];
  return models.flatMap((m) => m.tags ?? [m.name ?? m.model ?? m.tag]).filter(Boolean);
}

// ---------------------------------------------------------------- docker-registry

/** Starts `docker-registry serve CONFIG` on a free port; resolves {port, host, url, stop, logs}. */
export async function startRegistry() {
  const dir = tempDir('gs-registry-');
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  writeFileSync(config, [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n'));
  const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d) => {
    log = (log + d).slice(-256 * 1024);
    if (verbose) process.stderr.write(d);
  };
  proc.stdout.setEncoding('utf8').on('data', keep);
  proc.stderr.setEncoding('utf8').on('data', keep);
  let exited = false;
  const exit = new Promise((resolve) => proc.on('exit', () => { exited = true; resolve(); }));
  const stop = async () => {
    stoppers.delete(stop);
    if (!exited) {
      try { process.kill(proc.pid, 'SIGTERM'); } catch { /* gone */ }
      const t = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exit;
      clearTimeout(t);
    }
    removeTemp(dir);
  };
  stoppers.add(stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) { await stop(); throw new Error(`docker-registry exited while starting:\n${log}`); }
    if (Date.now() > deadline) { await stop(); throw new Error(`docker-registry: /v2/ not answering in 30 s:\n${log}`); }
    try {
      const r = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch { /* not yet */ }
    await sleep(50);
  }
  return { port, host: `127.0.0.1:${port}`, url, pid: proc.pid, stop, logs: () => log };
}

// ---------------------------------------------------------------- fault proxy

// Listens on a free 127.0.0.1 port; stop() drops open connections and closes.
async function listen(server) {
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = async () => {
    stoppers.delete(stop);
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  stoppers.add(stop);
  return { port: server.address().port, stop };
}

/**
 * An HTTP proxy to 127.0.0.1:upstreamPort that logs every exchange and
 * applies a fault rule. rule(req, entry) returns undefined (pass through) or
 *   {status, headers?, body?}    answer that instead of asking upstream (an error body by default)
 *   {cutAfter: N}                send the head and N body bytes, then destroy the socket
 *   {stallAfter: N}              send the head and N body bytes, then nothing (the socket stays open)
 *   {flipAt: N}                  flip the bits of body byte N (the length stays right)
 * entry = {method, url, range, status, bytes} is pushed to proxy.log.
 * The Host header goes through unchanged, so the registry's Location URLs
 * point back at the proxy.
 */
export async function startProxy(upstreamPort, { rule = () => undefined } = {}) {
  const log = [];
  const proxy = { log, rule };
  const server = http.createServer((req, res) => {
    const entry = { method: req.method, url: req.url, range: req.headers.range ?? null, status: 0, bytes: 0 };
    log.push(entry);
    const fault = proxy.rule(req, entry) ?? {};
    if (fault.status) {
      entry.status = fault.status;
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.headers ?? {}) });
      res.end(fault.body ?? JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${fault.status}` }] }));
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        entry.status = upRes.statusCode;
        res.writeHead(upRes.statusCode, upRes.headers);
        upRes.on('data', (chunk) => {
          if (entry.cut) return;
          let data = chunk;
          if (fault.flipAt !== undefined && fault.flipAt >= entry.bytes && fault.flipAt < entry.bytes + data.length) {
            data = Buffer.from(data);
            data[fault.flipAt - entry.bytes] ^= 0xff;
          }
          const limit = fault.cutAfter ?? fault.stallAfter;
          if (limit !== undefined && entry.bytes + data.length >= limit) {
            const keep = limit - entry.bytes;
            entry.bytes += keep;
            entry.cut = true;
            upRes.destroy();
            // A stall keeps the connection open without another byte.
            res.write(data.subarray(0, keep), () => fault.cutAfter !== undefined && res.socket?.destroy());
            return;
          }
          entry.bytes += data.length;
          res.write(data);
        });
        upRes.on('end', () => res.end());
        upRes.on('error', () => res.socket?.destroy());
      });
    up.on('error', () => { res.socket?.destroy(); });
    req.pipe(up);
  });
  const { port, stop } = await listen(server);
  return Object.assign(proxy, { port, host: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, stop });
}

/**
 * A proxy rule that makes the registry behind it demand bearer tokens the
 * way Docker Hub does: 401 + `WWW-Authenticate: Bearer realm=PROXY/token,
 * service, scope` without `Authorization: Bearer TOKEN`; GET /token answers
 * {"token"} (only to Basic USER:PASSWORD when a user is set). Token requests
 * log their scope and Basic credentials in the entry.
 */
export function bearerRule(proxy, { user, password, token = 'test-token-1' } = {}) {
  const basic = user ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : null;
  return (req, entry) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/token') {
      entry.scope = url.searchParams.get('scope');
      entry.basic = req.headers.authorization ?? null;
      if (basic && req.headers.authorization !== basic) {
        return { status: 401, body: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }) };
      }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, expires_in: 300 }) };
    }
    if (req.headers.authorization === `Bearer ${token}`) return undefined;
    const repo = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(url.pathname)?.[1];
    const scope = repo ? `,scope="repository:${repo}:pull"` : '';
    return {
      status: 401,
      headers: { 'www-authenticate': `Bearer realm="${proxy.url}/token",service="test-registry"${scope}` },
      body: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }),
    };
  };
}

/** Blob downloads in a proxy log: GET /v2/<name>/blobs/sha256:... */
export const blobGets = (log) => log.filter((e) => e.method === 'GET' && /\/blobs\/sha256:[0-9a-f]{64}$/.test(e.url));
/** Blob upload starts in a proxy log: POST /v2/<name>/blobs/uploads/ (not cross-repository mounts). */
export const uploadStarts = (log) =>
  log.filter((e) => e.method === 'POST' && /\/blobs\/uploads\/?(\?.*)?$/.test(e.url) && !/[?&]mount=/.test(e.url));
/** Cross-repository mounts: POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo> */
export const mounts = (log) => log.filter((e) => e.method === 'POST' && /\/blobs\/uploads\/?\?.*mount=/.test(e.url));
/** Requests that carry blob data: PATCH or PUT on an upload session (PUT may close an empty one). */
export const uploadData = (log) => log.filter((e) => (e.method === 'PATCH' || e.method === 'PUT') && /\/blobs\/uploads\//.test(e.url));
export const digestOfUrl = (url) => /(sha256:[0-9a-f]{64})/.exec(url)?.[1];

// ---------------------------------------------------------------- registry API by hand

export const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Uploads a blob monolithically (POST, then PUT ?digest=); returns its descriptor parts. */
export async function pushBlob(registryUrl, repo, bytes) {
  const digest = sha256(bytes);
  const start = await fetch(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`upload start: ${start.status}`);
  const loc = new URL(start.headers.get('location'), registryUrl);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`blob PUT: ${put.status} ${text}`);
  return { digest, size: bytes.length };
}

/** PUTs a manifest (object or raw string) as REPO:REF; returns its digest. */
export async function pushManifest(registryUrl, repo, ref, manifest, mediaType = 'application/vnd.oci.image.manifest.v1+json') {
  const raw = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  const r = await fetch(`${registryUrl}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT', body: raw, headers: { 'content-type': mediaType },
  });
  const text = await r.text();
  if (r.status !== 201) throw new Error(`manifest PUT ${repo}:${ref}: ${r.status} ${text}`);
  return sha256(raw);
}

// ---------------------------------------------------------------- Docker model-spec artifacts

export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.docker.ai.model.config.v0.1+json',
  gguf: 'application/vnd.docker.ai.gguf.v3',
  license: 'application/vnd.docker.ai.license',
  template: 'application/vnd.docker.ai.chat.template.jinja',
};

/**
 * The parts of a model-spec artifact (github.com/docker/model-spec):
 * {config: Buffer, manifest: object, blobs: Map<digest, Buffer>}.
 * layers: [{mediaType, bytes}] in manifest order.
 */
export function modelSpecArtifact(layers, { architecture = 'llama', parameterCount = '292.80K', quantization = 'F32' } = {}) {
  const blobs = new Map();
  const descriptors = layers.map(({ mediaType, bytes }) => {
    const digest = sha256(bytes);
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  });
  const config = Buffer.from(JSON.stringify({
    descriptor: { createdAt: '2025-01-01T00:00:00Z' },
    config: {
      format: 'gguf',
      format_version: '3',
      gguf: { architecture, parameter_count: parameterCount, quantization },
      size: String(descriptors.reduce((n, d) => n + d.size, 0)),
    },
    files: descriptors.map((d) => ({ diffID: d.digest, type: d.mediaType })),
  }));
  const configDigest = sha256(config);
  blobs.set(configDigest, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: configDigest, size: config.length },
    layers: descriptors,
  };
  return { config, manifest, blobs };
}

/**
 * Pushes stories260K (with a licence and a chat template) as a model-spec
 * artifact to registryUrl's REPO:TAG by plain HTTP, without genstack (the
 * pull tests need no working push); returns {digest: manifest digest, gguf}.
 */
export async function publishStories(registryUrl, repo, tag) {
  const art = modelSpecArtifact([
    { mediaType: MEDIA.gguf, bytes: readFileSync(MODEL_PATH) },
    { mediaType: MEDIA.license, bytes: Buffer.from('MIT License\n') },
    { mediaType: MEDIA.template, bytes: Buffer.from('{{ messages[0].content }}') },
  ]);
  for (const bytes of art.blobs.values()) await pushBlob(registryUrl, repo, bytes);
  const digest = await pushManifest(registryUrl, repo, tag, art.manifest);
  return { digest, gguf: sha256(readFileSync(MODEL_PATH)), manifest: art.manifest };
}

/** Writes an artifact as an OCI image layout (oci-layout, index.json, blobs/sha256/*) tagged `tag`. */
export function writeOciLayout(dir, tag, { manifest, blobs }) {
  const blobDir = path.join(dir, 'blobs', 'sha256');
  mkdirSync(blobDir, { recursive: true });
  for (const [digest, bytes] of blobs) writeFileSync(path.join(blobDir, digest.slice(7)), bytes);
  const raw = Buffer.from(JSON.stringify(manifest));
  const digest = sha256(raw);
  writeFileSync(path.join(blobDir, digest.slice(7)), raw);
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: MEDIA.manifest, digest, size: raw.length,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    }],
  }));
  return digest;
}

/** Runs skopeo ARGS (asynchronously); resolves {code, stdout, stderr}. */
export function skopeo(args, { timeout = CLI_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`skopeo ${args.join(' ')} hung`)); }, timeout);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

// ---------------------------------------------------------------- Hugging Face stand-in

/**
 * A stand-in for huggingface.co under its URL scheme:
 *   GET /api/models/ORG/REPO  {"id", "modelId", "sha", "siblings": [{"rfilename"}...]}
 *                              (with ?blobs=true also "size" and "lfs": {"sha256", "size"})
 *   GET|HEAD /ORG/REPO/resolve/main/FILE   the file, with Range (206 / 416), ETag,
 *                              X-Linked-Size and X-Linked-Etag like LFS files on the Hub.
 * repos: {'org/repo': {'file.gguf': Buffer, ...}}. rule(req, entry) as startProxy
 * ({status} or {cutAfter}) applies to file downloads. log: {method, url, range, status, bytes}.
 * hf.redirect = true answers /resolve/ with a 302 to /cdn/ORG/REPO/resolve/main/FILE?cdn=1.
 */
export async function startHfStandIn(repos, { rule = () => undefined } = {}) {
  const log = [];
  const hf = { log, rule, repos, redirect: false };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const entry = { method: req.method, url: req.url, range: req.headers.range ?? null, auth: req.headers.authorization ?? null, status: 0, bytes: 0 };
    log.push(entry);
    const reply = (status, body, headers = {}) => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    const api = /^\/api\/models\/([^/]+\/[^/]+)$/.exec(url.pathname);
    if (api) {
      const files = hf.repos[decodeURIComponent(api[1])];
      if (!files) return reply(404, JSON.stringify({ error: 'Repository not found' }), { 'content-type': 'application/json' });
      const withBlobs = url.searchParams.get('blobs') === 'true';
      const siblings = Object.entries(files).map(([name, bytes]) => (withBlobs
        ? { rfilename: name, size: bytes.length, lfs: { sha256: sha256(bytes).slice(7), size: bytes.length, pointerSize: 134 } }
        : { rfilename: name }));
      return reply(200, JSON.stringify({
        _id: '0123456789abcdef01234567', id: api[1], modelId: api[1], private: false, gated: false, disabled: false,
        sha: 'a'.repeat(40), tags: ['gguf'], library_name: 'gguf', siblings,
      }), { 'content-type': 'application/json' });
    }
    const file = /^(?:\/cdn)?\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url.pathname);
    const bytes = file && hf.repos[decodeURIComponent(file[1])]?.[decodeURIComponent(file[2])];
    if (!bytes) return reply(404, 'Entry not found', { 'x-error-code': 'EntryNotFound' });
    // Like the Hub for LFS files: a 302 to a CDN URL (here /cdn/ on this server).
    if (hf.redirect && !url.searchParams.has('cdn')) {
      return reply(302, '', { location: `${hf.url}/cdn${url.pathname}?cdn=1`, 'x-linked-size': String(bytes.length) });
    }
    const fault = hf.rule(req, entry) ?? {};
    if (fault.status) return reply(fault.status, 'injected');
    const etag = `"${sha256(bytes).slice(7)}"`;
    const headers = {
      'accept-ranges': 'bytes', etag, 'x-linked-etag': etag, 'x-linked-size': String(bytes.length),
      'x-repo-commit': 'a'.repeat(40), 'content-type': 'application/octet-stream',
    };
    let start = 0;
    let end = bytes.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (req.headers.range) {
      if (!range || Number(range[1]) >= bytes.length) {
        return reply(416, '', { 'content-range': `bytes */${bytes.length}` });
      }
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
    }
    headers['content-length'] = String(end - start + 1);
    entry.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();
    const body = bytes.subarray(start, end + 1);
    if (fault.cutAfter !== undefined && fault.cutAfter < body.length) {
      entry.bytes = fault.cutAfter;
      entry.cut = true;
      res.write(body.subarray(0, fault.cutAfter), () => res.socket?.destroy());
      return;
    }
    entry.bytes = body.length;
    res.end(body);
  });
  const { port, stop } = await listen(server);
  return Object.assign(hf, { port, url: `http://127.0.0.1:${port}`, stop });
}
