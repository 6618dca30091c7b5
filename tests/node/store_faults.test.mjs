// Pulls that go wrong, through a fault-injecting proxy in front of a real
// registry: a cut download resumes with Range, a corrupted blob is refused,
// 500/429 get bounded retries then a clear error, a full disk leaves the
// store consistent, two concurrent pulls download each blob once.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  PROMPT, RUN_FLAGS, assertCliError, badBlobs, blobGets, cleanup, digestOfUrl, genstack, genstackOk, lastLine,
  listedTags, makeHome, missingTools, publishStories, startProxy, startRegistry, storeBlobs, tempDir,
} from './store_harness.mjs';

const skip = missingTools() ?? false;
const BOUND_MS = 120_000; // a failing pull must end within this (retries are bounded)

describe('pull faults', { skip, timeout: 600_000 }, () => {
  let registry;
  let model; // {digest, gguf}
  let proxy;
  let ref; // the model, reached through the proxy

  before(async () => {
    registry = await startRegistry();
    model = await publishStories(registry.url, 'test/stories', 'v1');
    proxy = await startProxy(registry.port);
    ref = `localhost:${proxy.port}/test/stories:v1`;
  });
  after(cleanup);

  const ggufGets = (log) => blobGets(log).filter((e) => digestOfUrl(e.url) === model.gguf);
  const fresh = () => {
    proxy.rule = () => undefined;
    return proxy.log.length;
  };

  // The store holds nothing unverified and does not list the model.
  async function assertNothingStored(home, what) {
    assert.ok(!(await listedTags(home)).some((t) => t.includes('test/stories')), `${what}: ls does not list the model`);
    const blobs = storeBlobs(home);
    assert.ok(!blobs.complete.includes(model.gguf.slice(7)), `${what}: the GGUF blob did not enter the store`);
    assert.deepEqual(blobs.other, [], `${what}: no stray files in blobs/sha256: ${blobs.other}`);
    assert.deepEqual(badBlobs(home), [], `${what}: every blob in the store matches its digest`);
  }

  test('a download cut halfway resumes with Range and completes', async () => {
    const start = fresh();
    const CUT = 400_000;
    let cuts = 0;
    proxy.rule = (req) => (digestOfUrl(req.url) === model.gguf && req.method === 'GET' && cuts++ === 0
      ? { cutAfter: CUT } : undefined);
    const { home } = makeHome();
    // The client may resume in the same process (a retry) or leave a
    // .partial for the next pull; both must end with the model stored.
    const first = await genstack(['pull', ref, '--insecure'], { home, timeout: BOUND_MS });
    if (first.code !== 0) {
      assert.equal(first.code, 1, `a failed pull exits 1: ${first.stderr}`);
      assert.equal(storeBlobs(home).partial.length, 1, 'the cut download is kept as a .partial file');
      await genstackOk(['pull', ref, '--insecure'], { home });
    }
    const gets = ggufGets(proxy.log.slice(start));
    assert.equal(gets[0].cut, true, 'the first GET of the GGUF blob was cut');
    const resumed = gets.slice(1).find((e) => /^bytes=[1-9]\d*-/.test(e.range ?? ''));
    assert.ok(resumed, `a later GET asks for a Range past 0: ${JSON.stringify(gets)}`);
    const from = Number(/^bytes=(\d+)-/.exec(resumed.range)[1]);
    assert.ok(from <= CUT, `resumes at or before the cut (${from} <= ${CUT})`);
    assert.ok(resumed.status === 206, `the registry answered 206: ${resumed.status}`);
    assert.ok(storeBlobs(home).complete.includes(model.gguf.slice(7)));
    assert.deepEqual(storeBlobs(home).partial, [], 'no .partial left after the pull');
    assert.deepEqual(badBlobs(home), []);
    const text = await genstackOk(['run', ref, PROMPT, ...RUN_FLAGS], { home });
    assert.ok(text.trim().length > 0);
  });

  test('a download killed mid-blob resumes from the .partial file', async () => {
    const start = fresh();
    // The GGUF blob stalls after a part, so the kill lands mid-download.
    proxy.rule = (req) => (digestOfUrl(req.url) === model.gguf && req.method === 'GET' ? { stallAfter: 300_000 } : undefined);
    const { home } = makeHome();
    const partialDir = path.join(home, 'models', 'blobs', 'sha256');
    const partial = path.join(partialDir, `${model.gguf.slice(7)}.partial`);
    let child;
    const pulling = genstack(['pull', ref, '--insecure'], { home, timeout: BOUND_MS, onSpawn: (c) => { child = c; } });
    const deadline = Date.now() + BOUND_MS;
    let size = 0;
    while (Date.now() < deadline) {
      try { size = statSync(partial).size; } catch { size = 0; }
      if (size > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(size > 0, 'the .partial file grew');
    await new Promise((r) => setTimeout(r, 200)); // let the stalled part reach the file
    child.kill('SIGKILL');
    await pulling;
    proxy.rule = () => undefined;
    assert.ok(storeBlobs(home).partial.length >= 1, 'the killed pull left its .partial');
    await genstackOk(['df'], { home }); // the store stays usable mid-download
    await genstackOk(['pull', ref, '--insecure'], { home });
    const ranged = ggufGets(proxy.log.slice(start)).filter((e) => /^bytes=[1-9]/.test(e.range ?? ''));
    assert.ok(ranged.length > 0, 'the second pull sent a Range request');
    assert.ok(storeBlobs(home).complete.includes(model.gguf.slice(7)));
    assert.deepEqual(badBlobs(home), []);
  });

  test('a blob redirect (307, as registries on object storage answer) is followed', async () => {
    const start = fresh();
    proxy.rule = (req) => (req.method === 'GET' && digestOfUrl(req.url) && !req.url.includes('?')
      ? { status: 307, headers: { location: `${proxy.url}${req.url}?redirected=1` }, body: '' } : undefined);
    const { home } = makeHome();
    assert.equal(lastLine(await genstackOk(['pull', ref, '--insecure'], { home, timeout: BOUND_MS })), model.digest);
    const followed = proxy.log.slice(start).filter((e) => e.url.endsWith('?redirected=1') && e.status === 200);
    assert.equal(followed.length, 4, 'config and three layers fetched at the redirect target');
    assert.deepEqual(badBlobs(home), []);
  });

  test('a corrupted blob is refused and nothing enters the store', async () => {
    fresh();
    proxy.rule = (req) => (digestOfUrl(req.url) === model.gguf && req.method === 'GET' ? { flipAt: 1000 } : undefined);
    const { home } = makeHome();
    const r = await genstack(['pull', ref, '--insecure'], { home, timeout: BOUND_MS });
    const line = assertCliError(assert, r, 'corrupted blob');
    assert.match(line, /digest|sha256|checksum|verif|mismatch|corrupt/i, 'the error says the digest does not match');
    await assertNothingStored(home, 'corrupted blob');
    assert.deepEqual(storeBlobs(home).partial, [], 'the corrupted download is deleted, not kept to resume');
    proxy.rule = () => undefined;
    assert.equal(lastLine(await genstackOk(['pull', ref, '--insecure'], { home })), model.digest, 'a clean pull works afterwards');
  });

  for (const status of [500, 429]) {
    test(`a registry answering ${status} gets bounded retries, then a clear error`, async () => {
      const start = fresh();
      proxy.rule = () => ({ status, headers: status === 429 ? { 'retry-after': '0' } : {} });
      const { home } = makeHome();
      const r = await genstack(['pull', ref, '--insecure'], { home, timeout: BOUND_MS });
      const line = assertCliError(assert, r, `HTTP ${status}`);
      assert.match(line, new RegExp(`${status}|${status === 429 ? 'too many requests' : 'internal server error'}`, 'i'),
        'the error names the status');
      const tries = proxy.log.length - start;
      assert.ok(tries >= 2, `retried (${tries} requests)`);
      assert.ok(tries <= 30, `bounded (${tries} requests)`);
      await assertNothingStored(home, `HTTP ${status}`);
    });
  }

  test('a registry failing the first requests (503) is retried to success', async () => {
    fresh();
    let failures = 0;
    proxy.rule = (req) => (req.url.includes('/blobs/') && failures++ < 2 ? { status: 503 } : undefined);
    const { home } = makeHome();
    assert.equal(lastLine(await genstackOk(['pull', ref, '--insecure'], { home, timeout: BOUND_MS })), model.digest);
    assert.equal(failures >= 2, true);
  });

  test('a full disk (tmpfs of 512 KiB) gives a clear error and a consistent store', async (t) => {
    const mnt = path.join(tempDir(), 'small');
    mkdirSync(mnt);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (mount.status !== 0) {
      t.skip(`mount -t tmpfs is not permitted here (${(mount.stderr || '').trim()}); the prlimit test covers it`);
      return;
    }
    try {
      fresh();
      const r = await genstack(['pull', ref, '--insecure'], { home: mnt, timeout: BOUND_MS });
      const line = assertCliError(assert, r, 'full disk');
      assert.match(line, /space|disk|full|write|ENOSPC/i, 'the error says the disk is full');
      await assertNothingStored(mnt, 'full disk');
      await genstackOk(['df'], { home: mnt });
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  test('a file size limit (RLIMIT_FSIZE) mid-download leaves a consistent store', async () => {
    fresh();
    const { home } = makeHome();
    const r = await genstack(['pull', ref, '--insecure'], { home, timeout: BOUND_MS, wrap: ['prlimit', '--fsize=300000'] });
    assert.notEqual(r.code, 0, 'the pull fails');
    if (r.signal === null) assertCliError(assert, r, 'file size limit');
    await assertNothingStored(home, 'file size limit');
  });

  test('two concurrent pulls of one model download each blob once', async () => {
    const start = fresh();
    const { home } = makeHome();
    const [a, b] = await Promise.all([0, 1].map(() => genstack(['pull', ref, '--insecure'], { home, timeout: BOUND_MS })));
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(lastLine(a.stdout), model.digest);
    assert.equal(lastLine(b.stdout), model.digest);
    const counts = {};
    for (const e of blobGets(proxy.log.slice(start))) {
      if (e.status === 200 || e.status === 206) counts[digestOfUrl(e.url)] = (counts[digestOfUrl(e.url)] ?? 0) + 1;
    }
    assert.equal(Object.keys(counts).length, 4, `config and three layers downloaded: ${JSON.stringify(counts)}`);
    for (const [digest, n] of Object.entries(counts)) assert.equal(n, 1, `${digest} downloaded once, not ${n} times`);
    assert.deepEqual(badBlobs(home), []);
  });
});
