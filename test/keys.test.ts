import { createHmac, hkdfSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../keys/fingerprint.js';
import { createKeyFile, LoadedKey } from '../keys/keyFile.js';
import { PrecomputedHmac } from '../keys/hmacState.js';
import { projectKey } from '../keys/pseudonyms.js';
import { runBoldlink } from './support/cli.js';

/** RFC 4231, HMAC-SHA-256 test cases 1, 2 and 6 (key longer than a block). */
const RFC4231 = [
  {
    case: 1,
    key: '0b'.repeat(20),
    data: utf8ToBytes('Hi There'),
    mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
  },
  {
    case: 2,
    key: bytesToHex(utf8ToBytes('Jefe')),
    data: utf8ToBytes('what do ya want for nothing?'),
    mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  },
  {
    case: 6,
    key: 'aa'.repeat(131),
    data: utf8ToBytes('Test Using Larger Than Block-Size Key - Hash Key First'),
    mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  },
];

describe('HMAC-SHA256 (RFC 4231)', () => {
  for (const v of RFC4231) {
    it(`test case ${v.case}: @noble/hashes, node:crypto and the precomputed-state hasher agree with the RFC`, () => {
      const key = hexToBytes(v.key);
      expect(bytesToHex(hmac(sha256, key, v.data))).toBe(v.mac);
      expect(createHmac('sha256', key).update(v.data).digest('hex')).toBe(v.mac);
      const out = new Uint8Array(32);
      new PrecomputedHmac(key).hex16Into(v.data, 0, v.data.length, out, 0);
      expect(Buffer.from(out).toString('latin1')).toBe(v.mac.slice(0, 32));
    });
  }
});

describe('HKDF-SHA256 (RFC 5869)', () => {
  it('test case 1', () => {
    const okm = hkdf(
      sha256,
      hexToBytes('0b'.repeat(22)),
      hexToBytes('000102030405060708090a0b0c'),
      hexToBytes('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(bytesToHex(okm)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('the project key K_proj equals node:crypto HKDF with an empty salt and info "boldlink/project/<id>"', () => {
    const ttp = hexToBytes('1f'.repeat(32));
    const expected = Buffer.from(hkdfSync('sha256', ttp, new Uint8Array(0), 'boldlink/project/outflow-2024', 32));
    expect(bytesToHex(projectKey(ttp, 'outflow-2024'))).toBe(expected.toString('hex'));
    expect(bytesToHex(projectKey(ttp, 'other'))).not.toBe(expected.toString('hex'));
  });
});

describe('key files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'boldlink-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the fingerprint is the first 8 bytes of HMAC(K, "boldlink/fingerprint/v1") in hex', () => {
    const key = hexToBytes('00'.repeat(32));
    expect(fingerprint(key)).toBe(
      createHmac('sha256', key).update('boldlink/fingerprint/v1').digest('hex').slice(0, 16),
    );
  });

  it('a new key file is mode 0600, 32 random bytes, and is never overwritten', async () => {
    const file = join(dir, 'source.json');
    const created = await createKeyFile(file, 'source', 'rotterdam-2024');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(file, 'utf8')) as { key: string; format: string };
    expect(json.format).toBe('boldlink-key/v1');
    expect(Buffer.from(json.key, 'base64')).toHaveLength(32);
    const loaded = await LoadedKey.load(file, 'source');
    expect(loaded.fingerprint).toBe(created.fingerprint);
    await expect(createKeyFile(file, 'source', 'again')).rejects.toMatchObject({ code: 'KEY_EXISTS' });
  });

  it('a loaded key shows only role, id and fingerprint when logged or serialised', async () => {
    const file = join(dir, 'shown.json');
    await createKeyFile(file, 'ttp', 'ttp-1');
    const key = await LoadedKey.load(file);
    const secret = (JSON.parse(await readFile(file, 'utf8')) as { key: string }).key;
    expect(JSON.stringify(key)).not.toContain(secret);
    expect(inspect(key)).not.toContain(secret);
    expect(inspect(key)).toContain(key.fingerprint);
  });

  it('a key readable by group or others is refused, with the chmod fix in the message', async () => {
    const file = join(dir, 'loose.json');
    await createKeyFile(file, 'source', 'loose');
    await chmod(file, 0o640);
    await expect(LoadedKey.load(file)).rejects.toMatchObject({
      code: 'KEY_PERMISSIONS',
      message: expect.stringContaining(`chmod 600 ${file}`),
    });
  });

  it('a key of the wrong role is refused', async () => {
    const file = join(dir, 'ttp.json');
    await createKeyFile(file, 'ttp', 'ttp');
    await expect(LoadedKey.load(file, 'source')).rejects.toMatchObject({ code: 'KEY_ROLE' });
  });
});

describe('boldlink keys (CLI)', { timeout: 60_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'boldlink-keys-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keys new, then fingerprint prints the fingerprint alone, and check accepts it', async () => {
    const file = join(dir, 'k.json');
    const made = await runBoldlink(['keys', 'new', '--role', 'source', '--out', file, '--key-id', 'utrecht']);
    expect(made.code).toBe(0);
    const fp = await runBoldlink(['keys', 'fingerprint', file]);
    expect(fp.code).toBe(0);
    expect(fp.stdout).toMatch(/^[0-9a-f]{16}\n$/);
    expect(made.stdout).toContain(fp.stdout.trim());
    const check = await runBoldlink(['keys', 'check', file, '--role', 'source']);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('role source');
    const secret = (JSON.parse(await readFile(file, 'utf8')) as { key: string }).key;
    for (const output of [made, fp, check]) expect(output.stdout + output.stderr).not.toContain(secret);
  });

  it('keys new refuses to overwrite (exit 1) and an unknown role is a usage error (exit 2)', async () => {
    const file = join(dir, 'exists.json');
    await writeFile(file, '{}', { mode: 0o600 });
    const again = await runBoldlink(['keys', 'new', '--role', 'ttp', '--out', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('never overwritten');
    expect(await readFile(file, 'utf8')).toBe('{}');
    const badRole = await runBoldlink(['keys', 'new', '--role', 'admin', '--out', join(dir, 'x.json')]);
    expect(badRole.code).toBe(2);
  });

  it('keys check refuses loose permissions, naming the fix, and a wrong role', async () => {
    const file = join(dir, 'loose.json');
    expect((await runBoldlink(['keys', 'new', '--role', 'ttp', '--out', file])).code).toBe(0);
    expect((await runBoldlink(['keys', 'check', file, '--role', 'source'])).code).toBe(1);
    await chmod(file, 0o644);
    const loose = await runBoldlink(['keys', 'check', file]);
    expect(loose.code).toBe(1);
    expect(loose.stderr).toContain(`chmod 600 ${file}`);
    const fp = await runBoldlink(['keys', 'fingerprint', file]);
    expect(fp.code).toBe(1);
    expect(fp.stdout).toBe('');
  });
});
