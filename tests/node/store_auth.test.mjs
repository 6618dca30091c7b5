// Registry authentication and the Docker Hub defaults: the bearer-token
// challenge flow (anonymous and with credentials from `genstack login` or
// a Docker config.json), and GENSTACK_REGISTRY_MIRROR standing in for Docker
// Hub (`ai/NAME` and a bare `NAME`).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertCliError, bearerRule, cleanup, genstack, genstackOk, lastLine, makeHome, missingTools, publishStories,
  startProxy, startRegistry, tempDir,
} from './store_harness.mjs';

const skip = missingTools() ?? false;
const BOUND_MS = 120_000;

describe('registry auth and Docker Hub defaults', { skip, timeout: 300_000 }, () => {
  let registry;
  let proxy;
  let model;
  let host;
  const pull = (home, ref, env = {}) => genstack(['pull', ref, '--insecure'], { home, env, timeout: BOUND_MS });

  before(async () => {
    registry = await startRegistry();
    model = await publishStories(registry.url, 'test/stories', 'v1');
    await publishStories(registry.url, 'ai/stories', 'latest');
    proxy = await startProxy(registry.port);
    host = `localhost:${proxy.port}`;
  });
  after(cleanup);

  test('anonymous bearer tokens: the challenge is followed, the token sent', async () => {
    proxy.rule = bearerRule(proxy);
    const start = proxy.log.length;
    const { home } = makeHome();
    const r = await pull(home, `${host}/test/stories:v1`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastLine(r.stdout), model.digest);
    const tokens = proxy.log.slice(start).filter((e) => e.url.startsWith('/token'));
    assert.ok(tokens.length >= 1, 'a token was fetched');
    assert.ok(tokens.some((e) => e.scope === 'repository:test/stories:pull'), `with the challenge's scope: ${JSON.stringify(tokens)}`);
  });

  test('credentials: refused without them, `login` stores them, `logout` forgets them', async () => {
    proxy.rule = bearerRule(proxy, { user: 'alice', password: 's3cret pass' });
    const { home } = makeHome();
    const denied = await pull(home, `${host}/test/stories:v1`);
    assert.match(assertCliError(assert, denied, 'no credentials'), /401|unauthori[sz]ed|denied|credentials|authenticat/i);

    await genstackOk(['login', host, '-u', 'alice', '--password-stdin'], { home, input: 's3cret pass\n' });
    const authFile = path.join(home, 'auth.json');
    assert.ok(existsSync(authFile), 'login writes $GENSTACK_HOME/auth.json');
    assert.equal(statSync(authFile).mode & 0o077, 0, 'auth.json is readable by its owner only');
    const start = proxy.log.length;
    const r = await pull(home, `${host}/test/stories:v1`);
    assert.equal(r.code, 0, r.stderr);
    const basic = `Basic ${Buffer.from('alice:s3cret pass').toString('base64')}`;
    assert.ok(proxy.log.slice(start).some((e) => e.basic === basic), 'the token request carried the credentials');
    assert.ok(!r.stderr.includes('s3cret'), 'the password is never printed');

    await genstackOk(['logout', host], { home });
    assert.ok(!readFileSync(authFile, 'utf8').includes(host), 'logout removes the registry from auth.json');
    await genstackOk(['rm', `${host}/test/stories:v1`], { home });
    assertCliError(assert, await pull(home, `${host}/test/stories:v1`), 'after logout');
  });

  test('credentials from $DOCKER_CONFIG/config.json', async () => {
    proxy.rule = bearerRule(proxy, { user: 'bob', password: 'pw' });
    const dockerConfig = tempDir('gs-docker-');
    mkdirSync(dockerConfig, { recursive: true });
    writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({
      auths: { [host]: { auth: Buffer.from('bob:pw').toString('base64') } },
    }));
    const { home } = makeHome();
    const r = await pull(home, `${host}/test/stories:v1`, { DOCKER_CONFIG: dockerConfig });
    assert.equal(r.code, 0, r.stderr);
  });

  test('GENSTACK_REGISTRY_MIRROR serves docker.io references: ai/NAME and NAME', async () => {
    proxy.rule = () => undefined;
    const env = { GENSTACK_REGISTRY_MIRROR: proxy.url };
    for (const ref of ['ai/stories', 'stories', 'docker.io/ai/stories:latest']) {
      const { home } = makeHome();
      const start = proxy.log.length;
      const r = await genstack(['pull', ref], { home, env, timeout: BOUND_MS });
      assert.equal(r.code, 0, `${ref}: ${r.stderr}`);
      assert.ok(proxy.log.slice(start).some((e) => e.url === '/v2/ai/stories/manifests/latest'), `${ref} asked for ai/stories:latest`);
      const listed = await genstackOk(['ls'], { home });
      assert.match(listed, /ai\/stories/, `${ref}: ls shows ai/stories`);
    }
  });
});
