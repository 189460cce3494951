import test from 'ava'
import { ConfigError, parseHostPort, resolveStartConfig, type ConfigSources } from '../../node/config.js'

const PEER = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'

function sources (over: Partial<ConfigSources> = {}): ConfigSources {
  return {
    argv: [],
    env: {},
    readFile: () => { throw new Error('ENOENT: no such file') },
    defaults: { dataDir: '/var/lib/heatmesh', name: 'host1' },
    ...over
  }
}

test('with nothing given, a node is a mesh of one on loopback', (t) => {
  t.deepEqual(resolveStartConfig(sources()), {
    dataDir: '/var/lib/heatmesh',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    http: { host: '127.0.0.1', port: 7070 },
    key: undefined,
    name: 'host1',
    fanIn: 16,
    replicas: 2
  })
})

test('an empty HEATMESH_CONFIG means no config file, as an empty variable does for every option', (t) => {
  t.is(resolveStartConfig(sources({ env: { HEATMESH_CONFIG: '', HEATMESH_NAME: '' } })).name, 'host1')
})

test('flags win over the environment, which wins over the config file', (t) => {
  const files: Record<string, string> = { '/etc/hm.json': JSON.stringify({ name: 'from-file', http: '127.0.0.2:9000', 'data-dir': '/file' }) }
  const c = resolveStartConfig(sources({
    argv: ['--config', '/etc/hm.json', '--name', 'from-flag'],
    env: { HEATMESH_NAME: 'from-env', HEATMESH_HTTP: '127.0.0.3:9001' },
    readFile: (p) => files[p] as string
  }))
  t.is(c.name, 'from-flag')
  t.deepEqual(c.http, { host: '127.0.0.3', port: 9001 })
  t.is(c.dataDir, '/file')
})

test('repeatable multiaddr options accept flags, comma-separated env and file arrays', (t) => {
  t.deepEqual(resolveStartConfig(sources({ argv: ['--bootstrap', PEER, '--bootstrap', PEER] })).bootstrap, [PEER, PEER])
  t.deepEqual(resolveStartConfig(sources({ env: { HEATMESH_LISTEN: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2' } })).listen,
    ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
  t.deepEqual(resolveStartConfig(sources({ argv: ['--config', 'f'], readFile: () => JSON.stringify({ bootstrap: [PEER] }) })).bootstrap, [PEER])
})

const bad: Array<[string, Partial<ConfigSources>, RegExp]> = [
  ['an unknown flag', { argv: ['--nope'] }, /Unknown option '--nope'/],
  ['a bad multiaddr names its source', { argv: ['--bootstrap', 'tcp://x'] }, /^--bootstrap: "tcp:\/\/x" is not a multiaddr/],
  ['a bad HOST:PORT from the environment names the variable', { env: { HEATMESH_HTTP: 'localhost' } }, /^\$HEATMESH_HTTP: expected HOST:PORT/],
  ['a missing config file', { argv: ['--config', '/nope.json'] }, /^config file \/nope\.json: ENOENT/],
  ['a config file that is not JSON', { argv: ['--config', 'f'], readFile: () => '{' }, /^config file f: not JSON/],
  ['a config file that is not an object', { argv: ['--config', 'f'], readFile: () => '[]' }, /^config file f: expected a JSON object/],
  ['an unknown key in the config file', { argv: ['--config', 'f'], readFile: () => '{"nmae":"x"}' }, /^config file f: unknown option "nmae"/],
  ['a wrongly typed value in the config file', { argv: ['--config', 'f'], readFile: () => '{"name":5}' }, /^"name" in f: expected a non-empty string, got 5/],
  ['a listen list with a non-string in the config file', { argv: ['--config', 'f'], readFile: () => '{"listen":[1]}' }, /^"listen" in f: expected multiaddr strings, got 1/]
]
for (const [what, over, message] of bad) {
  test(`rejects ${what}`, (t) => {
    t.throws(() => resolveStartConfig(sources(over)), { instanceOf: ConfigError, message })
  })
}

test('parseHostPort accepts host:port and [v6]:port and names a bad value', (t) => {
  t.deepEqual(parseHostPort('127.0.0.1:7070'), { host: '127.0.0.1', port: 7070 })
  t.deepEqual(parseHostPort('[::1]:0'), { host: '::1', port: 0 })
  for (const text of ['7070', 'localhost:', ':80', 'a:99999', '1.2.3.4:80x']) {
    t.throws(() => parseHostPort(text), { instanceOf: ConfigError, message: /^--http: expected HOST:PORT/ }, text)
  }
})

test('the merge tree\'s fan-in and replicas come from flags, the environment or the file, and bad values are named', (t) => {
  t.is(resolveStartConfig(sources({ argv: ['--fan-in', '4'] })).fanIn, 4)
  t.is(resolveStartConfig(sources({ env: { HEATMESH_REPLICAS: '0' } })).replicas, 0)
  t.is(resolveStartConfig(sources({ argv: ['--config', '/f'], readFile: () => JSON.stringify({ 'fan-in': 32, replicas: 3 }) })).fanIn, 32)
  for (const bad of ['3', '1', '128', 'x', '4.0', '']) {
    t.throws(() => resolveStartConfig(sources({ argv: ['--fan-in', bad] })), { instanceOf: ConfigError, message: /^--fan-in: expected a power of two from 2 to 64/ }, bad)
  }
  t.throws(() => resolveStartConfig(sources({ env: { HEATMESH_REPLICAS: '9' } })), { instanceOf: ConfigError, message: /^\$HEATMESH_REPLICAS: expected an integer from 0 to 8, got "9"/ })
})
