/**
 * One bpftrace process: spawned with `-f json` and its script on stdin, its stdout read line by
 * line into OutputEvents, the last lines of its stderr kept for error reasons, stopped the way
 * bpftrace needs.
 *
 * Facts this relies on (bpftrace v0.17.0, /tmp/bpftrace-facts.md §2, §5):
 * - READY (printed from BEGIN) means every probe is attached; errors (syntax, unknown
 *   tracepoint, attach failure) go to stderr as plain text and bpftrace exits with code 1 before
 *   READY. Every run also prints "couldn't set RLIMIT_MEMLOCK" on stderr, which is harmless
 *   (BPF memory is charged to the memcg) and left out of reasons.
 * - SIGINT runs END (which flushes the slots) and exits 0 in about 0.2 s. In scripts without an
 *   interval probe a SIGINT was lost 7 times in 250; ours always have one, and stop() repeats
 *   SIGINT after 2 s and sends SIGKILL after 5 s anyway. (A second SIGINT while END runs kills
 *   bpftrace before it flushes, hence the 2 s wait.)
 * - Ready takes 0.2-0.3 s for one script.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { HeatmeshError } from '../../../metad/index.js'
import { createLineSplitter, MAX_LINE_BYTES } from './lines.js'
import { parseOutputLine, type OutputEvent } from './output.js'
import { trackChild } from './reaper.js'

/** stop(): SIGINT again after this long. */
export const SECOND_SIGINT_MS = 2000
/** stop(): SIGKILL after this long. */
export const SIGKILL_MS = 5000
/** Lines of stderr kept for reasons. */
const STDERR_LINES = 20
/** A stderr line is cut to this length in reasons. */
const STDERR_LINE_CHARS = 500

/** bpftrace's harmless complaint on every start (CAP_SYS_RESOURCE is not in our bounding set). */
const HARMLESS = /couldn't set RLIMIT_MEMLOCK/

export interface ChildInit {
  /** The bpftrace executable. */
  readonly path: string
  readonly script: string
  /** The environment (complete). */
  readonly env: NodeJS.ProcessEnv
  /** Each decoded stdout line, in order. */
  readonly onEvent: (event: OutputEvent) => void
  /** A stdout line that did not decode: why, and the start of the line. */
  readonly onRejected: (reason: string, line: string) => void
  /** @default MAX_LINE_BYTES */
  readonly maxLineBytes?: number
}

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** In words, with the last stderr lines when there are any. */
  readonly reason: string
  /** Whether it ended because stop() was called. */
  readonly stopped: boolean
}

/** A running bpftrace. */
export interface BpftraceChild {
  readonly pid: number | undefined
  /**
   * Resolves when READY arrives; rejects with a HeatmeshError carrying bpftrace's own error text
   * if it exits first, or after `timeoutMs` (the child is then stopped), or when `signal` aborts.
   */
  ready: (timeoutMs: number, signal?: AbortSignal) => Promise<void>
  /** Settles once the process has exited and its stdout has been read to the end. */
  readonly exited: Promise<ChildExit>
  /** SIGINT; SIGINT again after 2 s; SIGKILL after 5 s. Resolves on exit; idempotent. */
  stop: () => Promise<ChildExit>
  /** SIGKILL now (a stuck process: no END flush is wanted from it). Resolves on exit. */
  kill: () => Promise<ChildExit>
  /** The kept stderr lines, harmless ones left out. */
  stderrText: () => string
}

/** Spawns bpftrace on `init.script`. Never throws: a spawn failure shows as an early exit. */
export function spawnBpftrace (init: ChildInit): BpftraceChild {
  const stderrLines: string[] = []
  let readySeen = false
  let stopping = false
  let exitInfo: ChildExit | undefined
  const readyWaiters = new Set<{ resolve: () => void, reject: (err: Error) => void }>()

  let child: ChildProcess
  let resolveExited!: (e: ChildExit) => void
  const exited = new Promise<ChildExit>((resolve) => { resolveExited = resolve })

  const stderrText = (): string => stderrLines.join('\n')
  const describe = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): string => {
    const how = spawnError !== undefined
      ? `could not be started: ${spawnError.message}`
      : signal !== null ? `was killed by ${signal}` : `exited with code ${String(code)}`
    const err = stderrText()
    return err === '' ? `bpftrace ${how}` : `bpftrace ${how}: ${err}`
  }
  const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
    if (exitInfo !== undefined) return
    exitInfo = { code, signal, reason: describe(code, signal, spawnError), stopped: stopping }
    for (const w of readyWaiters) w.reject(new HeatmeshError('ECA_NORESOURCE', exitInfo.reason))
    readyWaiters.clear()
    resolveExited(exitInfo)
  }

  const out = createLineSplitter({
    maxLineBytes: init.maxLineBytes ?? MAX_LINE_BYTES,
    onLine (line) {
      let event: OutputEvent
      try {
        event = parseOutputLine(line)
      } catch (err) {
        init.onRejected(err instanceof Error ? err.message : String(err), line.subarray(0, 200).toString('utf8'))
        return
      }
      if (event.type === 'marker' && event.marker === 'READY' && !readySeen) {
        readySeen = true
        for (const w of readyWaiters) w.resolve()
        readyWaiters.clear()
      }
      try {
        init.onEvent(event)
      } catch (err) {
        // Whatever a line holds, it must not unwind the daemon from a stream callback.
        init.onRejected(`the line could not be used: ${err instanceof Error ? err.message : String(err)}`, line.subarray(0, 200).toString('utf8'))
      }
    },
    onOverlong (bytes) { init.onRejected(`a line of ${bytes} bytes, over the ${init.maxLineBytes ?? MAX_LINE_BYTES}-byte bound`, '') }
  })
  const err = createLineSplitter({
    maxLineBytes: 64 * 1024,
    onLine (line) {
      const text = line.toString('utf8').trimEnd()
      if (text === '' || HARMLESS.test(text)) return
      stderrLines.push(text.length > STDERR_LINE_CHARS ? `${text.slice(0, STDERR_LINE_CHARS)}...` : text)
      if (stderrLines.length > STDERR_LINES) stderrLines.shift()
    },
    onOverlong () {}
  })

  try {
    child = spawn(init.path, ['-f', 'json', '-'], { env: init.env, stdio: ['pipe', 'pipe', 'pipe'] })
  } catch (e) {
    // spawn throws synchronously only for bad arguments (e.g. a NUL in the path).
    const error = e instanceof Error ? e : new Error(String(e))
    finish(null, null, error)
    return { pid: undefined, ready: async () => { throw new HeatmeshError('ECA_NORESOURCE', exitInfo!.reason) }, exited, stop: async () => await exited, kill: async () => await exited, stderrText }
  }
  trackChild(child)
  child.stdout!.on('data', (chunk: Buffer) => { out.push(chunk) })
  child.stderr!.on('data', (chunk: Buffer) => { err.push(chunk) })
  // Stream errors are not ours to throw: EPIPE on stdin when bpftrace dies before reading its
  // script, say; the exit that follows says why.
  child.stdin!.on('error', () => {})
  child.stdout!.on('error', () => {})
  child.stderr!.on('error', () => {})
  child.stdin!.end(init.script)
  let spawnError: Error | undefined
  // 'on', not 'once': a failed kill() emits 'error' too, and an unheard 'error' would throw.
  child.on('error', (e) => {
    spawnError ??= e
    if (child.pid === undefined) finish(null, null, e) // never started: no 'close' follows reliably
  })
  // 'close' comes after 'exit' once stdout and stderr are drained: the END flush is in by then.
  child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
    out.end()
    err.end()
    finish(code, signal, child.pid === undefined ? spawnError : undefined)
  })

  let stopPromise: Promise<ChildExit> | undefined
  const stop = async (): Promise<ChildExit> => {
    stopPromise ??= (async () => {
      if (exitInfo !== undefined) return exitInfo
      stopping = true
      const send = (sig: NodeJS.Signals): void => {
        if (exitInfo !== undefined) return
        try { child.kill(sig) } catch { /* gone */ }
      }
      send('SIGINT')
      const again = setTimeout(() => { send('SIGINT') }, SECOND_SIGINT_MS)
      const kill = setTimeout(() => { send('SIGKILL') }, SIGKILL_MS)
      try {
        return await exited
      } finally {
        clearTimeout(again)
        clearTimeout(kill)
      }
    })()
    return await stopPromise
  }

  return {
    pid: child.pid,
    exited,
    stop,
    async kill () {
      stopping = true
      if (exitInfo === undefined) {
        try { child.kill('SIGKILL') } catch { /* gone */ }
      }
      return await exited
    },
    stderrText,
    async ready (timeoutMs, signal) {
      if (readySeen) return
      if (exitInfo !== undefined) throw new HeatmeshError('ECA_NORESOURCE', exitInfo.reason)
      signal?.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          resolve: () => { cleanup(); resolve() },
          reject: (e: Error) => { cleanup(); reject(e) }
        }
        const onAbort = (): void => {
          waiter.reject(signal!.reason instanceof Error ? signal!.reason : new HeatmeshError('ECA_INTR', 'aborted'))
          void stop()
        }
        const timer = setTimeout(() => {
          waiter.reject(new HeatmeshError('ECA_TIMEDOUT', `bpftrace did not attach within ${timeoutMs} ms${stderrLines.length > 0 ? `: ${stderrText()}` : ''}`))
          void stop()
        }, timeoutMs)
        const cleanup = (): void => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          readyWaiters.delete(waiter)
        }
        readyWaiters.add(waiter)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
  }
}
