/**
 * The golden matrix (shared by golden.test.ts and accept.test.ts): for every eBPF metric, each
 * decomposition in {none; each discrete field; each numeric field; the first discrete with the
 * first numeric} and each predicate in {none; one on a discrete field; one on a numeric field,
 * where the metric has one}. The discrete predicates are chosen so that, over the metrics, every
 * kind of constant appears (name, pid, syscall, cgroup, disk, enum, IPv4, IPv6, port).
 */
import { catalog, parsePredicate, type Metric, type PredicateJson } from '../../../metad/index.js'
import { bpftraceImplementations, generateBpftraceProgram, type BpftraceProgram, type GeneratorEnv } from '../../../metad/bpftrace/index.js'

/** What the goldens assume the node knows: one cgroup and one disk. */
export const GOLDEN_ENV: GeneratorEnv = {
  cgroupId: (path) => path === '/heatlab' ? 44 : undefined,
  blockDevice: (name) => name === 'vda' ? 254 * 2 ** 20 : undefined
}

const DISCRETE_PREDICATES: Readonly<Record<string, PredicateJson>> = {
  'cpu.runqueue_latency': { eq: ['pid', '1'] },
  'cpu.thread_executions': { eq: ['execname', 'bash'] },
  'disk.physio_bytes': { eq: ['optype', 'write'] },
  'disk.physio_ops': { eq: ['disk', 'vda'] },
  'fs.fsync_ops': { eq: ['cgroup', '/heatlab'] },
  'proc.execs': { eq: ['pexecname', 'bash'] },
  'proc.exits': { ne: ['execname', 'sh'] },
  'proc.forks': { eq: ['execname', 'make'] },
  'syscall.syscalls': { eq: ['syscall', 'read'] },
  'tcp.accepts': { eq: ['rport', '8080'] },
  'tcp.connects': { eq: ['raddr', '127.0.0.1'] },
  'tcp.retransmits': { eq: ['raddr', '::1'] }
}

const NUMERIC_PREDICATES: Readonly<Record<string, PredicateJson>> = {
  latency: { gt: ['latency', 1000000] },
  runtime: { gt: ['runtime', 1000000] },
  size: { ge: ['size', 65536] },
  walltime: { gt: ['walltime', 1000000000] }
}

/** One golden case. */
export interface GoldenCase {
  /** File name under golden/: `<metric>--<decomposition>--<predicate>.bt`. */
  readonly file: string
  readonly metric: Metric
  readonly decomposition: readonly string[]
  readonly predicate: PredicateJson
  /** The program as generated now. */
  readonly program: () => BpftraceProgram
}

/** Every golden case, in a stable order. */
export function goldenCases (): GoldenCase[] {
  const out: GoldenCase[] = []
  for (const impl of bpftraceImplementations()) {
    const metric = catalog.metrics.get(impl.metric) as Metric
    const arity = (f: string): string | undefined => metric.fields.find((x) => x.name === f)?.arity
    const discrete = impl.fields.filter((f) => arity(f) === 'discrete')
    const numeric = impl.fields.filter((f) => arity(f) === 'numeric')
    const decompositions: string[][] = [[], ...discrete.map((f) => [f]), ...numeric.map((f) => [f])]
    if (discrete.length > 0 && numeric.length > 0) decompositions.push([discrete[0] as string, numeric[0] as string])
    const predicates: [string, PredicateJson][] = [['all', {}], ['discrete', DISCRETE_PREDICATES[impl.metric] as PredicateJson]]
    if (numeric.length > 0) predicates.push(['numeric', NUMERIC_PREDICATES[numeric[0] as string] as PredicateJson])
    for (const decomposition of decompositions) {
      for (const [name, predicate] of predicates) {
        out.push({
          file: `${impl.metric}--${decomposition.length === 0 ? 'none' : decomposition.join('+')}--${name}.bt`,
          metric,
          decomposition,
          predicate,
          program: () => generateBpftraceProgram([{ slot: 0, metric, predicate: parsePredicate(predicate, metric), decomposition }], GOLDEN_ENV)
        })
      }
    }
  }
  return out
}
