/**
 * The instrumentations a simulation creates: the synthetic metric (synthetic.ops, which every
 * simulated node's synthetic backend serves) with the decompositions the merge tree must handle
 * (a latency distribution, per key, both, a plain count), cycling in that order. Built with
 * metad like the HTTP API builds them, so the definitions that travel are real canonical JSON.
 * idle-max is 0 (never reaped) so an instrumentation lives for the whole run.
 */
import { canonicalInstrumentationJson, catalog, parseInstrumentation } from '../metad/index.js'

const DECOMPOSITIONS: ReadonlyArray<readonly string[]> = [['latency'], ['key', 'latency'], ['key'], []]

/** The canonical definition of the k-th instrumentation of a run (k from 0). */
export function simInstrumentation (k: number): string {
  const decomposition = DECOMPOSITIONS[k % DECOMPOSITIONS.length] as readonly string[]
  return canonicalInstrumentationJson(parseInstrumentation({ module: 'synthetic', stat: 'ops', decomposition, 'idle-max': 0 }, catalog))
}
