import test from 'ava'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { IDENTITY_FILE, KeyFileError, loadOrCreateIdentity, parseIdentity } from '../../../node/mesh/index.js'

async function withDir (fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'heatmesh-id-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('a fresh data directory gets an Ed25519 identity, stored 0600, that later loads are the same peer', async (t) => {
  await withDir(async (dir) => {
    const dataDir = join(dir, 'data')
    const made = await loadOrCreateIdentity(dataDir)
    t.true(made.created)
    t.is(made.identity.privateKey.type, 'Ed25519')
    t.regex(made.identity.peerId, /^12D3KooW/)
    t.is((await stat(dataDir)).mode & 0o777, 0o700)
    const file = join(dataDir, IDENTITY_FILE)
    t.is((await stat(file)).mode & 0o777, 0o600)
    t.is((await readFile(file)).byteLength, 68)
    const again = await loadOrCreateIdentity(dataDir)
    t.false(again.created)
    t.is(again.identity.peerId, made.identity.peerId)
  })
})

test('processes racing on one data directory end up with one identity', async (t) => {
  await withDir(async (dir) => {
    const all = await Promise.all(Array.from({ length: 5 }, async () => await loadOrCreateIdentity(dir)))
    t.is(all.filter((r) => r.created).length, 1)
    t.is(new Set(all.map((r) => r.identity.peerId)).size, 1)
  })
})

test('a damaged identity file is reported with its path, not replaced', async (t) => {
  await withDir(async (dir) => {
    const file = join(dir, IDENTITY_FILE)
    await writeFile(file, 'not a key')
    await t.throwsAsync(loadOrCreateIdentity(dir), { instanceOf: KeyFileError, message: new RegExp(`^node identity file ${file}: is not a libp2p private key`) })
    t.is(await readFile(file, 'utf8'), 'not a key')
  })
})

test('an identity of another key type is refused', async (t) => {
  const secp = privateKeyToProtobuf(await generateKeyPair('secp256k1'))
  t.throws(() => parseIdentity(secp, '/x/identity.key'), { instanceOf: KeyFileError, message: /holds a secp256k1 key, expected Ed25519/ })
})

test('a data directory that cannot be created is reported', async (t) => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'file'), 'x')
    await t.throwsAsync(loadOrCreateIdentity(join(dir, 'file', 'data')), { instanceOf: KeyFileError, message: /its data directory cannot be created: (ENOTDIR|EEXIST)/ })
  })
})
