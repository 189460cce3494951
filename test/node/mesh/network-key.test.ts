import test from 'ava'
import { mkdtemp, mkdir, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { preSharedKey } from '@libp2p/pnet'
import {
  formatNetworkKey, generateNetworkKey, KeyFileError, loadOrCreateNetworkKey, networkKeyFingerprint, parseNetworkKey,
  readNetworkKey, writeNetworkKey, NETWORK_KEY_BYTES
} from '../../../node/mesh/index.js'
import { pnetKeyBytes } from '../../../node/mesh/network-key.js'

const HEX = '0123456789abcdef'.repeat(4)
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

async function withDir (fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'heatmesh-key-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('a generated key is 32 random bytes and round-trips through the swarm-key format', (t) => {
  const key = generateNetworkKey()
  t.is(key.psk.byteLength, NETWORK_KEY_BYTES)
  t.notDeepEqual(generateNetworkKey().psk, key.psk)
  const text = formatNetworkKey(key)
  t.regex(text, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
  t.deepEqual(parseNetworkKey(bytes(text), 'k').psk, key.psk)
})

test('@libp2p/pnet accepts the bytes we hand it', (t) => {
  t.notThrows(() => preSharedKey({ psk: pnetKeyBytes(generateNetworkKey()) })())
})

test('parsing tolerates CRLF, no final newline, trailing blanks, a BOM and upper-case hex', (t) => {
  const expected = parseNetworkKey(bytes(`/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`), 'k').psk
  for (const variant of [
    `/key/swarm/psk/1.0.0/\r\n/base16/\r\n${HEX}\r\n`,
    `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}`,
    `/key/swarm/psk/1.0.0/  \n/base16/\t\n${HEX} \n\n`,
    `\uFEFF/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`,
    `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.toUpperCase()}\n`
  ]) {
    t.deepEqual(parseNetworkKey(bytes(variant), 'k').psk, expected, JSON.stringify(variant))
  }
})

const bad: Array<[string, string | Uint8Array, RegExp]> = [
  ['an empty file', '\n\n', /is empty/],
  ['bytes that are not UTF-8', new Uint8Array([0xff, 0xfe, 0x00, 0x80]), /is not text/],
  ['a wrong first line', `/key/swarm/psk/2.0.0/\n/base16/\n${HEX}\n`, /line 1: expected "\/key\/swarm\/psk\/1\.0\.0\/", got "\/key\/swarm\/psk\/2\.0\.0\/"/],
  ['a missing encoding line', '/key/swarm/psk/1.0.0/\n', /line 2: missing/],
  ['the base64 encoding', `/key/swarm/psk/1.0.0/\n/base64/\n${HEX}\n`, /line 2: encoding "\/base64\/" is not supported, only "\/base16\/"/],
  ['an unknown encoding', `/key/swarm/psk/1.0.0/\n/hex/\n${HEX}\n`, /line 2: expected "\/base16\/", got "\/hex\/"/],
  ['a missing key line', '/key/swarm/psk/1.0.0/\n/base16/\n', /line 3: missing/],
  ['a key one digit short', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(1)}\n`, /line 3: expected 64 hex digits, got 63/],
  ['a key one digit long', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}0\n`, /line 3: expected 64 hex digits, got 65/],
  ['a key with a non-hex digit', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(0, 10)}g${HEX.slice(11)}\n`, /line 3: not a hex digit at column 11/],
  ['content after the key', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n\nextra\n`, /line 5: unexpected content after the key/]
]
for (const [name, contents, message] of bad) {
  test(`parsing rejects ${name}, naming the file`, (t) => {
    const err = t.throws(() => parseNetworkKey(typeof contents === 'string' ? bytes(contents) : contents, '/etc/swarm.key'), { instanceOf: KeyFileError, message })
    t.true(err?.message.startsWith('network key file /etc/swarm.key: '))
    t.is(err?.code, 'ECA_INVAL')
    t.is(err?.file, '/etc/swarm.key')
  })
}

test('error messages never quote key material, wherever it sits in the file', (t) => {
  for (const contents of [
    `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(0, 40)}zz\n`, // a bad key line
    `${HEX}\n`, // a bare key, no header
    `/key/swarm/psk/1.0.0/\n${HEX}\n` // the encoding line left out
  ]) {
    const err = t.throws(() => parseNetworkKey(bytes(contents), 'k'), { instanceOf: KeyFileError })
    t.false(err?.message.includes(HEX.slice(0, 16)) ?? true, err?.message)
  }
})

test('the fingerprint is short, stable and differs between keys', (t) => {
  const key = generateNetworkKey()
  t.regex(networkKeyFingerprint(key), /^[0-9a-f]{16}$/)
  t.is(networkKeyFingerprint(key), networkKeyFingerprint(parseNetworkKey(bytes(formatNetworkKey(key)), 'k')))
  t.not(networkKeyFingerprint(key), networkKeyFingerprint(generateNetworkKey()))
})

test('a written key file has mode 0600 and reads back equal', async (t) => {
  await withDir(async (dir) => {
    const file = join(dir, 'swarm.key')
    const key = generateNetworkKey()
    await writeNetworkKey(file, key)
    t.is((await stat(file)).mode & 0o777, 0o600)
    t.is(await readFile(file, 'utf8'), formatNetworkKey(key))
    t.deepEqual((await readNetworkKey(file)).psk, key.psk)
    t.deepEqual(await readdir(dir), ['swarm.key'], 'no temporary file is left behind')
  })
})

test('writing refuses to replace an existing key unless told to overwrite', async (t) => {
  await withDir(async (dir) => {
    const file = join(dir, 'swarm.key')
    const first = generateNetworkKey()
    await writeNetworkKey(file, first)
    await t.throwsAsync(writeNetworkKey(file, generateNetworkKey()), { instanceOf: KeyFileError, message: /already exists; refusing to replace it/ })
    t.deepEqual((await readNetworkKey(file)).psk, first.psk)
    const second = generateNetworkKey()
    await writeNetworkKey(file, second, { overwrite: true })
    t.deepEqual((await readNetworkKey(file)).psk, second.psk)
    t.deepEqual(await readdir(dir), ['swarm.key'])
  })
})

test('reading names the file and the problem: missing, a directory, empty, too large', async (t) => {
  await withDir(async (dir) => {
    await t.throwsAsync(readNetworkKey(join(dir, 'nope.key')), { instanceOf: KeyFileError, message: /nope\.key: does not exist; create one with `heatmesh keygen FILE`/ })
    await mkdir(join(dir, 'adir'))
    await t.throwsAsync(readNetworkKey(join(dir, 'adir')), { instanceOf: KeyFileError, message: /adir: is a directory/ })
    await writeFile(join(dir, 'empty.key'), '')
    await t.throwsAsync(readNetworkKey(join(dir, 'empty.key')), { instanceOf: KeyFileError, message: /empty\.key: is empty/ })
    await writeFile(join(dir, 'big.key'), new Uint8Array(5000))
    await t.throwsAsync(readNetworkKey(join(dir, 'big.key')), { instanceOf: KeyFileError, message: /big\.key: too large: 5000 bytes/ })
    await writeFile(join(dir, 'bad.key'), '/key/swarm/psk/1.0.0/\n/base16/\nxyz\n')
    await t.throwsAsync(readNetworkKey(join(dir, 'bad.key')), { instanceOf: KeyFileError, message: /bad\.key: line 3/ })
  })
})

test('writing into a missing directory fails with the file named', async (t) => {
  await withDir(async (dir) => {
    await t.throwsAsync(writeNetworkKey(join(dir, 'no', 'such', 'swarm.key'), generateNetworkKey()), { instanceOf: KeyFileError, message: /swarm\.key: cannot be created: its directory does not exist/ })
  })
})

test('loadOrCreate makes a key once, then keeps reading the same one', async (t) => {
  await withDir(async (dir) => {
    const file = join(dir, 'swarm.key')
    const made = await loadOrCreateNetworkKey(file)
    t.true(made.created)
    const again = await loadOrCreateNetworkKey(file)
    t.false(again.created)
    t.deepEqual(again.key.psk, made.key.psk)
    // Racing creators agree on one key.
    const raced = await Promise.all(Array.from({ length: 5 }, async () => await loadOrCreateNetworkKey(join(dir, 'race.key'))))
    t.is(raced.filter((r) => r.created).length, 1)
    t.is(new Set(raced.map((r) => networkKeyFingerprint(r.key))).size, 1)
  })
})
