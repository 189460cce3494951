/**
 * A node's configuration from outside: command-line flags, HEATMESH_* environment variables
 * and a JSON config file, flags winning over the environment, the environment over the file.
 * Parsed and validated here, once, so that a bad value stops the node at start with a message
 * that names the option, where it came from, and what is wrong. One table describes every
 * option; `--help` is printed from it.
 */
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'

/** What `heatmesh start` runs with. */
export interface StartConfig {
  /** Where the node keeps its identity, network key, definitions and data. */
  readonly dataDir: string
  /** libp2p listen multiaddrs. */
  readonly listen: readonly string[]
  /** Peers to join through (multiaddrs with /p2p/<id>); none: a mesh of one. */
  readonly bootstrap: readonly string[]
  /** Where the HTTP API listens. */
  readonly http: { readonly host: string, readonly port: number }
  /** The network key file; undefined: `<dataDir>/network.key`, created when absent. */
  readonly key: string | undefined
  /** This node's name. */
  readonly name: string
  /** The merge tree's fan-in (children per prefix level); a power of two. */
  readonly fanIn: number
  /** Replicas of each instrumentation's root (they hold its history too). */
  readonly replicas: number
}

/** The merge tree's defaults (DESIGN.md: fan-in 8..32; two replicas survive two failures). */
export const DEFAULT_FAN_IN = 16
export const DEFAULT_REPLICAS = 2

type Kind = 'string' | 'list' | 'hostport' | 'multiaddrs' | 'int'

interface OptionSpec {
  readonly flag: string
  readonly env: string
  readonly kind: Kind
  readonly arg: string
  readonly help: string
}

/** Every option of `heatmesh start`; the config file uses the flag names as keys. */
export const START_OPTIONS: readonly OptionSpec[] = [
  { flag: 'data-dir', env: 'HEATMESH_DATA_DIR', kind: 'string', arg: 'DIR', help: 'where identity, network key and definitions live (default ~/.heatmesh)' },
  { flag: 'listen', env: 'HEATMESH_LISTEN', kind: 'multiaddrs', arg: 'MULTIADDR', help: 'libp2p listen address, repeatable (default /ip4/127.0.0.1/tcp/0)' },
  { flag: 'bootstrap', env: 'HEATMESH_BOOTSTRAP', kind: 'multiaddrs', arg: 'MULTIADDR', help: 'a peer to join through (with /p2p/<id>), repeatable; none: a mesh of one' },
  { flag: 'http', env: 'HEATMESH_HTTP', kind: 'hostport', arg: 'HOST:PORT', help: 'where the HTTP API listens (default 127.0.0.1:7070; port 0 picks a free one)' },
  { flag: 'key', env: 'HEATMESH_KEY', kind: 'string', arg: 'FILE', help: 'the network key (default <data-dir>/network.key, created when absent)' },
  { flag: 'name', env: 'HEATMESH_NAME', kind: 'string', arg: 'NAME', help: 'this node\'s name (default: the hostname)' },
  { flag: 'fan-in', env: 'HEATMESH_FAN_IN', kind: 'int', arg: 'K', help: `merge tree fan-in, a power of two from 2 to 64 (default ${DEFAULT_FAN_IN})` },
  { flag: 'replicas', env: 'HEATMESH_REPLICAS', kind: 'int', arg: 'R', help: `nodes besides each root that hold an instrumentation's history, 0 to 8 (default ${DEFAULT_REPLICAS})` },
  { flag: 'config', env: 'HEATMESH_CONFIG', kind: 'string', arg: 'FILE', help: 'a JSON file with any of these options, keyed by flag name' }
]

/** The `--help` lines for the start options. */
export function startOptionsHelp (): string {
  return START_OPTIONS.map((o) => {
    const left = `  --${o.flag} ${o.arg}`
    return `${left.padEnd(26)}${o.help}\n${' '.repeat(26)}(env ${o.env})`
  }).join('\n')
}

export interface ConfigSources {
  readonly argv: readonly string[]
  readonly env: Readonly<Record<string, string | undefined>>
  /** Reads the config file's text (throws as fs does). */
  readonly readFile: (path: string) => string
  readonly defaults: { readonly dataDir: string, readonly name: string }
}

/** A configuration error: which option, from where, what is wrong. */
export class ConfigError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** Resolves `heatmesh start`'s configuration; throws ConfigError naming the bad option. */
export function resolveStartConfig (sources: ConfigSources): StartConfig {
  const options: Record<string, { type: 'string', multiple?: boolean }> = {}
  for (const o of START_OPTIONS) options[o.flag] = o.kind === 'multiaddrs' ? { type: 'string', multiple: true } : { type: 'string' }
  let flags: Record<string, string | string[] | undefined>
  try {
    flags = parseArgs({ args: [...sources.argv], options, allowPositionals: false, strict: true }).values as Record<string, string | string[] | undefined>
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const envConfig = sources.env.HEATMESH_CONFIG
  const configPath = (flags.config as string | undefined) ?? (envConfig === '' ? undefined : envConfig)
  const file = configPath === undefined ? {} : readConfigFile(configPath, sources.readFile)

  const raw = (o: OptionSpec): { value: unknown, from: string } | undefined => {
    if (flags[o.flag] !== undefined) return { value: flags[o.flag], from: `--${o.flag}` }
    const e = sources.env[o.env]
    if (e !== undefined && e !== '') return { value: o.kind === 'multiaddrs' ? e.split(',').map((s) => s.trim()).filter(Boolean) : e, from: `$${o.env}` }
    if (Object.hasOwn(file, o.flag)) return { value: file[o.flag], from: `"${o.flag}" in ${configPath as string}` }
    return undefined
  }
  const spec = (flag: string): OptionSpec => START_OPTIONS.find((o) => o.flag === flag) as OptionSpec

  const str = (flag: string): string | undefined => {
    const r = raw(spec(flag))
    if (r === undefined) return undefined
    if (typeof r.value !== 'string' || r.value === '') throw new ConfigError(`${r.from}: expected a non-empty string, got ${JSON.stringify(r.value)}`)
    return r.value
  }
  const addrs = (flag: string, dflt: readonly string[]): readonly string[] => {
    const r = raw(spec(flag))
    if (r === undefined) return dflt
    const list = Array.isArray(r.value) ? r.value : [r.value]
    return list.map((a) => {
      if (typeof a !== 'string') throw new ConfigError(`${r.from}: expected multiaddr strings, got ${JSON.stringify(a)}`)
      try {
        return multiaddr(a).toString()
      } catch (err) {
        throw new ConfigError(`${r.from}: ${JSON.stringify(a)} is not a multiaddr (${(err as Error).message})`)
      }
    })
  }
  const int = (flag: string, dflt: number, ok: (n: number) => boolean, what: string): number => {
    const r = raw(spec(flag))
    if (r === undefined) return dflt
    const n = typeof r.value === 'number' ? r.value : typeof r.value === 'string' && /^\d+$/.test(r.value) ? Number(r.value) : NaN
    if (!Number.isSafeInteger(n) || !ok(n)) throw new ConfigError(`${r.from}: expected ${what}, got ${JSON.stringify(r.value)}`)
    return n
  }
  const httpRaw = raw(spec('http'))
  let http = { host: '127.0.0.1', port: 7070 }
  if (httpRaw !== undefined) {
    if (typeof httpRaw.value !== 'string') throw new ConfigError(`${httpRaw.from}: expected HOST:PORT, got ${JSON.stringify(httpRaw.value)}`)
    http = parseHostPort(httpRaw.value, httpRaw.from)
  }
  return {
    dataDir: str('data-dir') ?? sources.defaults.dataDir,
    listen: addrs('listen', ['/ip4/127.0.0.1/tcp/0']),
    bootstrap: addrs('bootstrap', []),
    http,
    key: str('key'),
    name: str('name') ?? sources.defaults.name,
    fanIn: int('fan-in', DEFAULT_FAN_IN, (n) => n >= 2 && n <= 64 && (n & (n - 1)) === 0, 'a power of two from 2 to 64'),
    replicas: int('replicas', DEFAULT_REPLICAS, (n) => n >= 0 && n <= 8, 'an integer from 0 to 8')
  }
}

function readConfigFile (path: string, readFile: (path: string) => string): Record<string, unknown> {
  let text: string
  try {
    text = readFile(path)
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`config file ${path}: not JSON (${(err as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`config file ${path}: expected a JSON object`)
  const known = new Set(START_OPTIONS.map((o) => o.flag))
  for (const k of Object.keys(parsed)) {
    if (!known.has(k) || k === 'config') throw new ConfigError(`config file ${path}: unknown option ${JSON.stringify(k)} (known: ${[...known].filter((x) => x !== 'config').join(', ')})`)
  }
  return parsed as Record<string, unknown>
}

/** Parses `HOST:PORT` (IPv6 as `[::1]:7070`); rejects anything else with a message naming it. */
export function parseHostPort (text: string, from = '--http'): { host: string, port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text)
  const port = m === null ? NaN : Number(m[3])
  if (m === null || port > 65535) throw new ConfigError(`${from}: expected HOST:PORT (e.g. 127.0.0.1:7070), got ${JSON.stringify(text)}`)
  return { host: (m[1] ?? m[2]) as string, port }
}
