/**
 * The `heatmesh` command. Thin on purpose: parse arguments, build the node from library
 * factories, start it, stop it on SIGINT/SIGTERM. Everything else is testable without a process.
 */
import './shim.js'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { getHeapStatistics } from 'node:v8'
import { createNode, DEFAULT_STOP_BUDGET_MS } from './daemon.js'
import { ConfigError, resolveStartConfig, startOptionsHelp } from './config.js'
import { generateNetworkKey, networkKeyFingerprint, writeNetworkKey } from './mesh/index.js'

const USAGE = `usage: heatmesh <command> [options]

commands:
  start               run a node (with no bootstrap peers: a mesh of one)
  keygen FILE         write a new network key to FILE (refuses to overwrite)
  sim [options]       simulate a mesh of many nodes (heatmesh sim --help)
  help                this text

options for start (flags win over the environment, the environment over the config file):
${startOptionsHelp()}
`

/** The simulator's memory budget (issue 7: 10,000 nodes within 8 GB), as V8's old-space limit, MB. */
const SIM_HEAP_MB = 8192

/**
 * Runs this command again in a child whose V8 heap may grow to SIM_HEAP_MB (Node's default, ~4
 * GB here, is too small for a crash storm at 10,000 nodes, and the limit is fixed at start);
 * undefined when this process already has it (or was started by this function).
 */
function withSimHeap (): number | undefined {
  if (getHeapStatistics().heap_size_limit >= SIM_HEAP_MB * 1024 * 1024 || process.env.HEATMESH_SIM_CHILD === '1') return undefined
  const r = spawnSync(process.execPath, [...process.execArgv, `--max-old-space-size=${SIM_HEAP_MB}`, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, HEATMESH_SIM_CHILD: '1' }
  })
  return r.status ?? 1
}

async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'sim') {
    const code = withSimHeap()
    if (code !== undefined) return code
    // The simulator is a plug-in of the command, loaded by URL at run time: sim/ depends on
    // node/'s protocol core, and node/ has no dependency on sim/.
    // A plain run is synchronous; --calibrate (real libp2p nodes) returns a promise.
    const sim = await import(new URL('../sim/cli.js', import.meta.url).href) as { runSimCli: (argv: readonly string[]) => number | Promise<number> }
    return await sim.runSimCli(rest)
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE)
    return command === undefined ? 2 : 0
  }
  if (command === 'keygen') {
    if (rest.length !== 1) {
      process.stderr.write(`heatmesh: keygen takes one argument, the key file\n${USAGE}`)
      return 2
    }
    const key = generateNetworkKey()
    await writeNetworkKey(rest[0]!, key)
    process.stdout.write(`heatmesh: network key ${rest[0]!} (fingerprint ${networkKeyFingerprint(key)})\n`)
    return 0
  }
  if (command !== 'start') {
    process.stderr.write(`heatmesh: unknown command ${JSON.stringify(command)}\n${USAGE}`)
    return 2
  }
  const config = resolveStartConfig({
    argv: rest,
    env: process.env,
    readFile: (path) => readFileSync(path, 'utf8'),
    defaults: { dataDir: join(homedir(), '.heatmesh'), name: hostname() }
  })
  const node = createNode({
    http: config.http,
    name: config.name,
    dataDir: config.dataDir,
    listen: config.listen,
    bootstrap: config.bootstrap,
    key: config.key,
    merge: { fanIn: config.fanIn, replicas: config.replicas }
  })
  // A signal during start stops the node as soon as it has started.
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGINT', () => { resolve('SIGINT') })
    process.once('SIGTERM', () => { resolve('SIGTERM') })
  })
  const started = await node.start()
  if (started.keyCreated) process.stdout.write(`heatmesh: created network key ${started.keyFile} (fingerprint ${started.keyFingerprint}); give it to every node of this mesh\n`)
  process.stdout.write(`heatmesh: node ${config.name} peer ${started.peerId} data ${config.dataDir}\n`)
  process.stdout.write(`heatmesh: http ${started.url}\n`)
  for (const address of started.addresses) process.stdout.write(`heatmesh: listening ${address}\n`)
  process.stdout.write('heatmesh: ready\n')
  const signal = await signalled
  // A second signal, or a stop that overruns its budget, ends the process at once.
  const force = (): void => { process.stderr.write('heatmesh: stop forced\n'); process.exit(1) }
  process.once('SIGINT', force)
  process.once('SIGTERM', force)
  setTimeout(force, DEFAULT_STOP_BUDGET_MS + 2000).unref()
  process.stdout.write(`heatmesh: ${signal}: stopping\n`)
  await node.stop(DEFAULT_STOP_BUDGET_MS)
  process.stdout.write('heatmesh: stopped\n')
  return 0
}

// libp2p can leave handles behind after its stop: once main is done, the process ends.
main(process.argv.slice(2)).then((code) => { process.exit(code) }, (err: unknown) => {
  const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err)
  process.stderr.write(`heatmesh: ${message}\n`)
  process.exit(1)
})
