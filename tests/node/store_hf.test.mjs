// Hugging Face pulls against a local stand-in under HF's URL scheme
// (HF_ENDPOINT): the GGUF file of the asked quantization is picked from the
// repository listing, stored like any model, run; a cut download resumes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  MODEL_PATH, PROMPT, RUN_FLAGS, assertCliError, badBlobs, cleanup, genstack, genstackOk, lastLine, listedTags,
  makeHome, missingTools, sha256, startHfStandIn, storeBlobs,
} from './store_harness.mjs';

const skip = missingTools() ?? false;
const BOUND_MS = 120_000;

describe('Hugging Face pulls', { skip, timeout: 600_000 }, () => {
  const model = readFileSync(MODEL_PATH);
  const junk = () => randomBytes(4096); // any wrong pick fails the GGUF checks or the comparison
  let hf;
  let env;
  let expected;

  before(async () => {
    hf = await startHfStandIn({
      'testorg/tiny-GGUF': {
        '.gitattributes': Buffer.from('*.gguf filter=lfs diff=lfs merge=lfs -text\n'),
        'README.md': Buffer.from('# tiny\n'),
        'tiny-Q2_K.gguf': junk(),
        'tiny-Q4_K_M.gguf': junk(),
        'tiny-Q8_0.gguf': model,
        'tiny-f16.gguf': junk(),
      },
      'testorg/other-GGUF': {
        'other-Q4_K_M.gguf': model,
        'other-Q8_0.gguf': junk(),
      },
    });
    env = { HF_ENDPOINT: hf.url, HF_TOKEN: undefined };
    expected = await genstackOk(['run', MODEL_PATH, PROMPT, ...RUN_FLAGS], { home: makeHome().home });
  });
  after(cleanup);

  const downloads = (from) => hf.log.slice(from).filter((e) => e.method === 'GET' && e.url.includes('/resolve/'));

  test('hf.co/ORG/REPO:Q8_0 picks the Q8_0 file, stores it, runs it', async () => {
    const { home } = makeHome();
    const start = hf.log.length;
    const ref = 'hf.co/testorg/tiny-GGUF:Q8_0';
    const out = await genstackOk(['pull', ref], { home, env });
    assert.match(lastLine(out), /^sha256:[0-9a-f]{64}$/, 'pull prints the manifest digest');
    const files = new Set(downloads(start).map((e) => e.url.split('/').pop()));
    assert.deepEqual([...files], ['tiny-Q8_0.gguf'], 'only the Q8_0 file is downloaded');
    assert.ok(hf.log.slice(start).some((e) => e.url.startsWith('/api/models/testorg/tiny-GGUF')), 'the listing was read');
    const info = JSON.parse(await genstackOk(['inspect', ref], { home, env }));
    assert.deepEqual(readFileSync(info.gguf), model, 'the stored GGUF is the Q8_0 file');
    assert.ok(storeBlobs(home).complete.includes(sha256(model).slice(7)), 'stored content-addressed');
    assert.ok((await listedTags(home)).some((t) => /testorg\/tiny-GGUF/i.test(t)), 'ls lists it');
    const text = await genstackOk(['run', ref, PROMPT, ...RUN_FLAGS], { home, env });
    assert.equal(text, expected, 'same greedy output as the file');
  });

  test('no quantization means Q4_K_M', async () => {
    const { home } = makeHome();
    const start = hf.log.length;
    await genstackOk(['pull', 'hf.co/testorg/other-GGUF'], { home, env });
    assert.deepEqual(downloads(start).map((e) => e.url.split('/').pop()), ['other-Q4_K_M.gguf']);
  });

  test('huggingface.co/ works like hf.co/', async () => {
    const { home } = makeHome();
    await genstackOk(['pull', 'huggingface.co/testorg/tiny-GGUF:Q8_0'], { home, env });
    const info = JSON.parse(await genstackOk(['inspect', 'hf.co/testorg/tiny-GGUF:Q8_0'], { home, env }));
    assert.deepEqual(readFileSync(info.gguf), model);
  });

  test('a quantization the repository lacks, or a missing repository, is a clear error', async () => {
    const { home } = makeHome();
    const noQuant = await genstack(['pull', 'hf.co/testorg/tiny-GGUF:Q5_K_S'], { home, env, timeout: BOUND_MS });
    assert.match(assertCliError(assert, noQuant, 'missing quantization'), /Q5_K_S/i, 'the error names the quantization');
    const noRepo = await genstack(['pull', 'hf.co/testorg/nothing-GGUF'], { home, env, timeout: BOUND_MS });
    assertCliError(assert, noRepo, 'missing repository');
    assert.deepEqual(storeBlobs(home).complete, [], 'nothing stored');
  });

  test('HF_TOKEN is sent as a bearer token', async () => {
    const { home } = makeHome();
    const start = hf.log.length;
    await genstackOk(['pull', 'hf.co/testorg/tiny-GGUF:Q8_0'], { home, env: { ...env, HF_TOKEN: 'hf_test_token' } });
    const requests = hf.log.slice(start);
    assert.ok(requests.length > 0);
    for (const e of requests) assert.equal(e.auth, 'Bearer hf_test_token', `${e.url} carries the token`);
  });

  test('a cut download resumes with Range', async () => {
    const { home } = makeHome();
    const start = hf.log.length;
    const CUT = 400_000;
    let cuts = 0;
    hf.rule = (req) => (req.method === 'GET' && cuts++ === 0 ? { cutAfter: CUT } : undefined);
    try {
      const first = await genstack(['pull', 'hf.co/testorg/tiny-GGUF:Q8_0'], { home, env, timeout: BOUND_MS });
      if (first.code !== 0) {
        assert.equal(first.code, 1, first.stderr);
        await genstackOk(['pull', 'hf.co/testorg/tiny-GGUF:Q8_0'], { home, env });
      }
    } finally {
      hf.rule = () => undefined;
    }
    const gets = downloads(start);
    assert.equal(gets[0].cut, true, 'the first download was cut');
    const resumed = gets.slice(1).find((e) => /^bytes=[1-9]\d*-/.test(e.range ?? ''));
    assert.ok(resumed, `a later GET resumes with Range: ${JSON.stringify(gets)}`);
    assert.ok(Number(/^bytes=(\d+)-/.exec(resumed.range)[1]) <= CUT);
    assert.equal(resumed.status, 206);
    assert.deepEqual(storeBlobs(home).partial, []);
    assert.deepEqual(badBlobs(home), []);
    const info = JSON.parse(await genstackOk(['inspect', 'hf.co/testorg/tiny-GGUF:Q8_0'], { home, env }));
    assert.deepEqual(readFileSync(info.gguf), model);
  });

  test('a 302 to a CDN (as the Hub does for LFS files) is followed, also when resuming', async () => {
    const { home } = makeHome();
    const start = hf.log.length;
    hf.redirect = true;
    let cuts = 0;
    hf.rule = (req) => (req.method === 'GET' && cuts++ === 0 ? { cutAfter: 300_000 } : undefined);
    try {
      const first = await genstack(['pull', 'hf.co/testorg/tiny-GGUF:Q8_0'], { home, env, timeout: BOUND_MS });
      if (first.code !== 0) await genstackOk(['pull', 'hf.co/testorg/tiny-GGUF:Q8_0'], { home, env });
    } finally {
      hf.redirect = false;
      hf.rule = () => undefined;
    }
    const cdn = hf.log.slice(start).filter((e) => e.method === 'GET' && e.url.startsWith('/cdn/'));
    assert.ok(cdn.some((e) => /^bytes=[1-9]/.test(e.range ?? '') && e.status === 206), `resumed at the CDN: ${JSON.stringify(cdn)}`);
    const info = JSON.parse(await genstackOk(['inspect', 'hf.co/testorg/tiny-GGUF:Q8_0'], { home, env }));
    assert.deepEqual(readFileSync(info.gguf), model);
  });

  test('run of a model not in the store pulls it first', async () => {
    const { home } = makeHome();
    const text = await genstackOk(['run', 'hf.co/testorg/tiny-GGUF:Q8_0', PROMPT, ...RUN_FLAGS], { home, env });
    assert.equal(text, expected);
    assert.ok(storeBlobs(home).complete.includes(sha256(model).slice(7)), 'and keeps it in the store');
  });
});
