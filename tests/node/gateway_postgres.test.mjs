// API keys in PostgreSQL: `genstack keys create --db postgresql://...`, then
// a gateway with that keys db accepts the key, and `genstack keys revoke`
// makes it 401 on the running gateway's next request. A Debian PostgreSQL 15
// server is started here (initdb with trust authentication in a temp folder,
// pg_ctl on a free 127.0.0.1 port; as root it runs as the `postgres` user)
// and stopped with pg_ctl at the end. Skipped when it is not installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOpenAIError, postJSON } from './harness.mjs';
import {
  closedPort, createKey, fakeCompletion, keys, makeWorkDir, startFakeUpstream, startGateway, writeConfig,
} from './gateway_harness.mjs';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const asRoot = process.getuid() === 0;
const hasPostgresUser = !asRoot || spawnSync('id', ['-u', 'postgres']).status === 0;
const skip = !existsSync(`${PG_BIN}/initdb`) ? `${PG_BIN}/initdb is not installed (Debian's postgresql 15)`
  : !hasPostgresUser ? "running as root without a 'postgres' user to run PostgreSQL as" : false;
const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

/** Runs a PostgreSQL program (as `postgres` when we are root: PostgreSQL refuses to run as root). */
function pg(program, args) {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', `${PG_BIN}/${program}`, ...args]]
    : [`${PG_BIN}/${program}`, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
}

async function startPostgres() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gs-postgres-'));
  if (asRoot) spawnSync('chown', ['-R', 'postgres:', dir]);
  chmodSync(dir, 0o700);
  pg('initdb', ['-D', `${dir}/data`, '-A', 'trust', '-U', 'genstack']);
  const port = await closedPort();
  const start = () =>
    pg('pg_ctl', ['-D', `${dir}/data`, '-l', `${dir}/log`, '-w', '-o', `-k ${dir} -p ${port} -h 127.0.0.1`, 'start']);
  const pause = () => pg('pg_ctl', ['-D', `${dir}/data`, '-w', 'stop', '-m', 'fast']);
  start();
  const stop = () => {
    try { pause(); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
  return { uri: `postgresql://genstack@127.0.0.1:${port}/postgres`, start, pause, stop };
}

describe('genstack keys and gateway with keys in PostgreSQL', { skip }, () => {
  let work, postgres, upstream, gateway;

  before(async () => {
    work = makeWorkDir();
    postgres = await startPostgres();
    upstream = await startFakeUpstream((req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fakeCompletion(JSON.parse(body).model)));
    });
    const file = writeConfig(work.dir, {
      listen: '127.0.0.1:0',
      upstreams: [{ name: 'fake', url: upstream.url }],
      routes: [{ model: 'm', pool: ['fake'] }],
      tiers: { free: {} },
      keys: { db: postgres.uri },
    });
    gateway = await startGateway(file);
  });

  after(async () => {
    await gateway?.stop();
    postgres?.stop();
    await upstream?.close();
    work?.remove();
  });

  const post = (secret) =>
    postJSON(gateway.baseURL, '/v1/chat/completions', chat, { headers: { authorization: `Bearer ${secret}` } });

  test('a created key is accepted, listed, and 401 once revoked', async () => {
    const key = createKey(postgres.uri, 'free', 'alice');
    assert.match(key.secret, /^gsk_[0-9a-f]{64}$/);
    const ok = await post(key.secret);
    assert.equal(ok.status, 200, ok.text);

    const listed = keys(postgres.uri, 'list');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${key.id}\\s+alice\\s+free\\s+${key.secret.slice(0, 12)}\\.\\.\\..*active$`, 'm'));
    assert.ok(!listed.stdout.includes(key.secret), 'the key itself is never listed');

    const revoked = keys(postgres.uri, 'revoke', String(key.id));
    assert.equal(revoked.status, 0, revoked.stderr);
    const refused = await post(key.secret);
    assert.equal(refused.status, 401);
    assertOpenAIError(assert, refused.json, { code: 'invalid_api_key' });
    assert.match(keys(postgres.uri, 'list').stdout, /revoked$/m);
  });

  test('PostgreSQL down: 500 naming the database, no crash; back up: the key works again', async () => {
    const key = createKey(postgres.uri, 'free', 'carol');
    assert.equal((await post(key.secret)).status, 200);
    postgres.pause();
    try {
      const down = await post(key.secret);
      assert.equal(down.status, 500, down.text);
      assertOpenAIError(assert, down.json, { type: 'server_error' });
      assert.match(down.json.error.message, /key database postgresql:\/\/genstack@127\.0\.0\.1/);
    } finally {
      postgres.start();
    }
    const back = await post(key.secret);
    assert.equal(back.status, 200, back.text);
  });

  test('a wrong password is a clear error that does not print it', async () => {
    const bad = postgres.uri.replace('genstack@', 'nobody:s3cret@');
    const r = keys(bad, 'list');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /key database postgresql:\/\/nobody:\*\*\*@127\.0\.0\.1/);
    assert.ok(!r.stderr.includes('s3cret'), r.stderr);
  });
});
