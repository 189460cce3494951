/**
 * Validation of a new instrumentation's script before it joins the combined script: bpftrace
 * runs it until READY (every probe attached) and is stopped at once. A target whose script does
 * not compile or attach thus fails alone, with bpftrace's own error text, and never takes the
 * other instrumentations' process down with it.
 *
 * Validations run one at a time (each is an LLVM compile and about 90 MB for a moment on a
 * 2-core machine), and a burst is validated together: when several targets wait, one script
 * holding all of them is tried first (a daemon resuming twenty instrumentations pays for one
 * validation, not twenty, and stays within the instrumenter's start timeout); only if it fails
 * is each target tried alone, so that the error still lands on the target that caused it.
 *
 * Cost, measured: READY after 0.2-0.6 s, exit 0.15-0.25 s after SIGINT. (bpftrace 0.17 has no
 * --dry-run, and a second BEGIN probe holding exit() is refused, so READY-then-SIGINT it is.)
 */
import { HeatmeshError } from '../../../metad/index.js'
import { spawnBpftrace } from './child.js'
import type { BpftraceTarget, ProgramGenerator } from './program.js'

export interface ValidatorInit {
  readonly path: string
  readonly env: NodeJS.ProcessEnv
  readonly timeoutMs: number
  readonly generate: ProgramGenerator
  /** Aborts every validation (the backend is stopping). */
  readonly shutdown: AbortSignal
}

/** Validates targets, one bpftrace at a time; see the module header. */
export type Validator = (target: BpftraceTarget, signal?: AbortSignal) => Promise<void>

/** Runs `script` until attached, then stops it. @throws HeatmeshError with bpftrace's reason. */
export async function validateScript (init: Pick<ValidatorInit, 'path' | 'env' | 'timeoutMs'>, script: string, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  const child = spawnBpftrace({ path: init.path, script, env: init.env, onEvent: () => {}, onRejected: () => {} })
  try {
    await child.ready(init.timeoutMs, signal)
  } catch (err) {
    const exit = await child.stop()
    signal?.throwIfAborted()
    if (exit.stopped) throw err // timed out: ready() said so
    throw new HeatmeshError('ECA_NORESOURCE', exit.reason)
  }
  await child.stop()
}

interface Pending {
  readonly target: BpftraceTarget
  readonly signal?: AbortSignal
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

/** Creates a validator. */
export function createValidator (init: ValidatorInit): Validator {
  let queue: Pending[] = []
  let pumping = false

  const alone = async (p: Pending): Promise<void> => {
    try {
      const signal = p.signal === undefined ? init.shutdown : AbortSignal.any([init.shutdown, p.signal])
      await validateScript(init, init.generate([p.target]).script, signal)
      p.resolve()
    } catch (err) {
      p.reject(err)
    }
  }

  const pump = async (): Promise<void> => {
    pumping = true
    try {
      while (queue.length > 0) {
        const batch = queue.filter((p) => p.signal?.aborted !== true)
        for (const p of queue) if (p.signal?.aborted === true) p.reject(p.signal.reason)
        queue = []
        if (batch.length === 0) continue
        if (batch.length === 1) {
          await alone(batch[0]!)
          continue
        }
        let together = false
        try {
          await validateScript(init, init.generate(batch.map((p) => p.target)).script, init.shutdown)
          together = true
        } catch {
          // someone in the batch is bad (or they clash): find out who, one by one
        }
        for (const p of batch) {
          if (together) p.resolve()
          else await alone(p)
        }
      }
    } finally {
      pumping = false
    }
  }

  return async (target, signal) => {
    signal?.throwIfAborted()
    init.shutdown.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      queue.push({ target, signal, resolve, reject })
      if (!pumping) void pump()
    })
  }
}
