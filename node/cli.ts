/**
 * The `heatmesh` command. Thin on purpose: parse arguments, build the node from library
 * factories, start it, stop it on SIGINT/SIGTERM. Everything else is testable without a process.
 */
import './shim.js'
import { parseArgs } from 'node:util'
import { hostname } from 'node:os'
import { createNode } from './daemon.js'
import { parseHostPort } from './config.js'

const USAGE = `usage: heatmesh <command> [options]

commands:
  start               run a node (with no peers: a mesh of one)

options for start:
  --http HOST:PORT    where the HTTP API listens (default 127.0.0.1:7070; port 0 picks a free one)
  --name NAME         this node's name (default: the hostname)
  -h, --help          this text
`

async function main (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      http: { type: 'string', default: process.env.HEATMESH_HTTP ?? '127.0.0.1:7070' },
      name: { type: 'string', default: process.env.HEATMESH_NAME ?? hostname() },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  const command = positionals[0]
  if (values.help === true || command === undefined) {
    process.stdout.write(USAGE)
    return command === undefined && values.help !== true ? 2 : 0
  }
  if (command !== 'start') {
    process.stderr.write(`heatmesh: unknown command ${JSON.stringify(command)}\n${USAGE}`)
    return 2
  }
  const node = createNode({ http: parseHostPort(values.http as string), name: values.name as string })
  const { url } = await node.start()
  process.stdout.write(`heatmesh: node ${values.name as string} http ${url}\n`)
  await new Promise<void>((resolve) => {
    const stop = (): void => { resolve() }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await node.stop()
  process.stdout.write('heatmesh: stopped\n')
  return 0
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`heatmesh: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
