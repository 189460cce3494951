/**
 * bpftrace accepts what the generator writes: every golden script, the hostile literals, a big
 * combined script, and the bucketing ladders, each loaded into the kernel (the verifier runs),
 * attached, then stopped. The one test file in metad's tests that spawns processes.
 *
 * bpftrace 0.17 has no --dry-run (`--emit-elf` stops before the verifier), so "accepted" means:
 * `bpftrace -f json <file>` prints READY (every probe attached), and on SIGINT prints END and
 * exits 0. Runs are bounded to BPFTRACE_PARALLEL at once (about 0.2 s of CPU each, 1 s with
 * kernel structs, whose BTF bpftrace parses), and each is killed after RUN_TIMEOUT_MS.
 *
 * Needs bpftrace, the privilege to load BPF, and tracefs mounted; where one is missing every
 * test here skips, saying which.
 */
import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { catalog, describeBucketing, parsePredicate, type Metric, type PredicateJson } from '../../../metad/index.js'
import { generateBpftraceProgram, type BpftraceTarget } from '../../../metad/bpftrace/index.js'
import { bucketLadder, renderLadder } from '../../../metad/bpftrace/ladder.js'
import { TRACEPOINT_FIELDS } from '../../../metad/bpftrace/tracepoints.js'
import { goldenCases } from './golden-cases.js'
import { HOSTILE_STRINGS } from './hostile-cases.js'
import { boundaryValues, expectedLo, LADDER_BUCKETINGS } from './ladder-cases.js'

const BPFTRACE_PARALLEL = 3
const RUN_TIMEOUT_MS = 60_000
const here = dirname(fileURLToPath(import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'heatmesh-accept-'))
test.after.always(() => rmSync(work, { recursive: true, force: true }))

/* Capability: what is missing, in words, or undefined when bpftrace can run here. */
const missing = ((): string | undefined => {
  const version = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' })
  if (version.error !== undefined) return 'bpftrace not installed'
  if (!existsSync('/sys/kernel/tracing/events/raw_syscalls')) return 'tracefs not mounted at /sys/kernel/tracing'
  const run = spawnSync('bpftrace', ['-e', 'BEGIN { exit(); }'], { encoding: 'utf8', timeout: 30_000 })
  if (run.status !== 0) return `bpftrace cannot load programs here (${run.stderr.split('\n').filter((l) => !l.includes('RLIMIT_MEMLOCK'))[0] ?? `exit ${String(run.status)}`})`
  return undefined
})()
const maybe = missing === undefined ? test : test.skip
const title = (s: string): string => missing === undefined ? s : `${s} (skipped: ${missing})`

/* Running bpftrace, a bounded number at a time. */

let running = 0
const waiting: (() => void)[] = []
async function slot<T> (fn: () => Promise<T>): Promise<T> {
  if (running >= BPFTRACE_PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve))
  running++
  try {
    return await fn()
  } finally {
    running--
    waiting.shift()?.()
  }
}

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly ready: boolean
  /** JSON lines of stdout, parsed. */
  readonly events: readonly { type: string, data: unknown }[]
  /** stdout as printed (with -v it also holds the verifier's logs). */
  readonly stdout: string
  /** stderr without bpftrace's harmless RLIMIT_MEMLOCK complaint. */
  readonly stderr: string
}

/**
 * Runs `script` until READY, then `whileReady()`, then SIGINT; resolves when bpftrace has exited.
 * SIGINT is sent again every 2 s (one sent right after READY was once ignored for minutes, on a
 * script WITH an interval probe) and SIGKILL after RUN_TIMEOUT_MS. `args` go before the script
 * file (e.g. -v, whose verifier logs go to stdout and its "Attaching" lines to stderr).
 */
async function runBpftrace (name: string, script: string, whileReady: () => Promise<void> = async () => {}, args: readonly string[] = []): Promise<Run> {
  const file = join(work, name)
  writeFileSync(file, script)
  return slot(async () => await new Promise<Run>((resolve) => {
    const child = spawn('bpftrace', [...args, '-f', 'json', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let ready = false
    let resend: NodeJS.Timeout | undefined
    const stop = (): void => {
      child.kill('SIGINT')
      resend = setInterval(() => child.kill('SIGINT'), 2000)
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (!ready && out.includes('"READY\\n"')) {
        ready = true
        whileReady().finally(stop).catch(() => {})
      }
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      clearInterval(resend)
      const events = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string, data: unknown })
      resolve({ code, signal, ready, events, stdout: out, stderr: err.split('\n').filter((l) => l !== '' && !l.includes('RLIMIT_MEMLOCK')).join('\n') })
    })
  }))
}

function accepted (run: Run): boolean {
  return run.ready && run.code === 0 && run.events.some((e) => e.type === 'printf' && e.data === 'END\n')
}

/** The sum of every count a slot map printed. */
function total (run: Run, map: string): number {
  let n = 0
  for (const e of run.events) {
    if (e.type !== 'map') continue
    const values = (e.data as Record<string, Record<string, number>>)[map]
    if (values !== undefined) n += Object.values(values).reduce((a, b) => a + b, 0)
  }
  return n
}

function target (slot: number, name: string, decomposition: string[], predicate: PredicateJson): BpftraceTarget {
  const metric = catalog.metrics.get(name) as Metric
  return { slot, metric, predicate: parsePredicate(predicate, metric), decomposition }
}

/* The tracepoint table against the kernel. */

maybe(title('the tracepoint field table matches the live kernel\'s format files'), (t) => {
  for (const [probe, fields] of Object.entries(TRACEPOINT_FIELDS)) {
    const [, group, name] = probe.split(':')
    const format = readFileSync(`/sys/kernel/tracing/events/${group}/${name}/format`, 'utf8')
    for (const [field, type] of Object.entries(fields)) {
      const m = new RegExp(`field:([^;]*?)\\b${field}(\\[\\d+\\])?;`).exec(format)
      t.truthy(m, `${probe} has ${field}`)
      const actual = m?.[2] === undefined ? 'scalar' : /\bchar$/.test((m[1] as string).trim()) ? 'string' : 'bytes'
      t.is(actual, type, `${probe} ${field}`)
    }
  }
})

/* Every golden script, as checked in. */

for (const c of goldenCases()) {
  maybe(title(`bpftrace loads golden ${c.file}`), async (t) => {
    const run = await runBpftrace(c.file, readFileSync(join(here, 'golden', c.file), 'utf8'))
    t.true(accepted(run), run.stderr)
  })
}

/* Hostile predicate constants. */

for (const [name, field] of [['syscall.syscalls', 'execname'], ['proc.execs', 'pexecname'], ['syscall.syscalls', 'pid'], ['syscall.syscalls', 'syscall'], ['tcp.connects', 'raddr'], ['disk.physio_ops', 'optype']] as const) {
  maybe(title(`bpftrace loads a script holding every hostile constant on ${name}.${field}`), async (t) => {
    const targets = HOSTILE_STRINGS.flatMap((value, i) => [
      target(2 * i, name, [field], { eq: [field, value] }),
      target(2 * i + 1, name, [], { ne: [field, value] })
    ])
    const run = await runBpftrace(`hostile-${field}.bt`, generateBpftraceProgram(targets).script)
    t.true(accepted(run), run.stderr)
  })
}

maybe(title('in the kernel, a literal with quotes, backslashes, braces and UTF-8 matches exactly that task name'), async (t) => {
  const name = 'a"b\\c{é}'
  const dir = mkdtempSync(join(work, 'comm-'))
  const exe = join(dir, name)
  copyFileSync('/bin/true', exe)
  chmodSync(exe, 0o755)
  const program = generateBpftraceProgram([
    target(0, 'syscall.syscalls', [], { eq: ['execname', name] }),
    target(1, 'syscall.syscalls', [], { eq: ['execname', `${name}x`] }),
    target(2, 'syscall.syscalls', [], { eq: ['execname', 'a"b\\c{'] })
  ])
  const run = await runBpftrace('comm.bt', program.script, async () => {
    for (let i = 0; i < 3; i++) spawnSync(exe, [])
    await new Promise((resolve) => setTimeout(resolve, 1200))
  })
  t.true(accepted(run), run.stderr)
  t.true(total(run, '@s0') >= 3, 'the exact name matched its syscalls')
  t.is(total(run, '@s1'), 0, 'a longer name does not match')
  t.is(total(run, '@s2'), 0, 'a prefix does not match')
})

/* Ladders in bpftrace. */

maybe(title('the bucketing ladders give bpftrace the same lower bounds as metad, at every boundary'), async (t) => {
  const lines = ['BEGIN {']
  const expected: string[] = []
  LADDER_BUCKETINGS.forEach((b, k) => {
    const values = boundaryValues(b)
    const picked = values.length <= 120 ? values : values.filter((_v, i) => i % Math.ceil(values.length / 120) === 0 || i === values.length - 1)
    for (const v of picked) {
      lines.push(`  $v = (uint64)${v};`, ...renderLadder(bucketLadder(b), '$v', '$b').map((l) => `  ${l}`), `  printf("${k} ${v} %llu\\n", $b);`)
      expected.push(`${k} ${v} ${expectedLo(b, v)}`)
    }
  })
  lines.push('  exit();', '}', 'END { printf("END\\n"); }')
  const run = await runBpftrace('ladders.bt', `${lines.join('\n')}\n`)
  const printed = run.events.filter((e) => e.type === 'printf' && e.data !== 'END\n').map((e) => (e.data as string).trim())
  t.true(run.code === 0, run.stderr)
  t.deepEqual(printed, expected, LADDER_BUCKETINGS.map(describeBucketing).join(', '))
})

/* A big combined script. */

maybe(title('16 syscall targets with predicates, and every eBPF metric beside them, fit the verifier in one script'), async (t) => {
  const targets: BpftraceTarget[] = []
  const predicates: PredicateJson[] = [
    { eq: ['pid', '1'] }, { ne: ['execname', 'bpftrace'] }, { eq: ['syscall', 'read'] }, { gt: ['latency', 1000000] },
    { and: [{ eq: ['execname', 'node'] }, { gt: ['latency', 1000] }] }, { or: [{ eq: ['syscall', 'write'] }, { eq: ['syscall', 'pwrite64'] }] },
    { eq: ['cgroup', 'cgroup_1'] }, { ne: ['pid', '1'] }
  ]
  const decompositions = [['execname', 'latency'], ['syscall', 'latency'], ['pid'], ['latency'], ['cgroup', 'latency'], ['syscall'], [], ['execname']]
  for (let i = 0; i < 16; i++) targets.push(target(i, 'syscall.syscalls', decompositions[i % 8] as string[], predicates[(i + Math.floor(i / 8)) % 8] as PredicateJson))
  for (const [name, decomposition] of [['cpu.runqueue_latency', ['pid', 'latency']], ['cpu.thread_executions', ['leavereason', 'runtime']], ['disk.physio_ops', ['execname', 'size']],
    ['disk.physio_bytes', ['optype']], ['fs.fsync_ops', ['cgroup', 'latency']], ['proc.execs', ['pexecname']], ['proc.exits', ['ppid', 'walltime']], ['proc.forks', ['execname']],
    ['tcp.accepts', ['raddr', 'latency']], ['tcp.connects', ['rport', 'latency']], ['tcp.retransmits', ['raddr']]] as [string, string[]][]) {
    targets.push(target(targets.length, name, decomposition, {}))
  }
  const program = generateBpftraceProgram(targets)
  const run = await runBpftrace('combined.bt', program.script, async () => await new Promise((resolve) => setTimeout(resolve, 1100)), ['-v'])
  t.true(accepted(run), run.stderr)
  const counts = [...run.stdout.matchAll(/processed (\d+) insns/g)].map((m) => Number(m[1]))
  const probes = [...run.stderr.matchAll(/^Attaching (.+)$/gm)].map((m) => m[1] as string)
  t.is(counts.length, probes.length, 'one verifier log per program')
  const insns = probes.map((probe, i) => ({ probe, insns: counts[i] as number }))
  t.log(insns.map((i) => `${i.insns}\t${i.probe}`).join('\n'))
  const exit = insns.find((i) => i.probe === 'tracepoint:raw_syscalls:sys_exit')
  t.truthy(exit)
  t.true(insns.every((i) => i.insns < 100_000), 'every program far below the 1M-instruction limit')
  t.true(run.events.some((e) => e.type === 'printf' && e.data === 'TICK\n'), 'it ran a second')
})
