/**
 * The reaper: makes sure no bpftrace outlives the daemon. This is the one process-wide state of
 * the backend, because process exit is process-wide: every live bpftrace child is listed here
 * from spawn to exit, and every backend that can start children registers its shutdown.
 *
 * How a bpftrace goes away when the daemon does (verified on this machine, see the tests):
 * - orderly stop: the daemon's SIGINT/SIGTERM handler awaits `stopAll()`: every backend stops
 *   its process (SIGINT, END flushes, exit) and starts no other;
 * - the daemon exits any other way that still runs JavaScript (process.exit, an uncaught
 *   exception): a process 'exit' hook, installed with the first child, SIGKILLs every child left
 *   (synchronously, as 'exit' requires; the kernel detaches fd-based probes of a killed bpftrace);
 * - the daemon is SIGKILLed and runs nothing: bpftrace's stdout is a pipe only the daemon reads,
 *   so its next write (the 1 Hz TICK every script prints) raises SIGPIPE and bpftrace dies, within
 *   about a second (measured 0.83-0.94 s). No prctl(PR_SET_PDEATHSIG) is needed for that, and
 *   Node offers none.
 */
import type { ChildProcess } from 'node:child_process'

/** Something that starts bpftrace children and can stop them all. */
export interface ChildOwner {
  /** Stops every child the owner runs and starts no more. */
  shutdown: () => Promise<void>
}

const children = new Set<ChildProcess>()
const owners = new Set<ChildOwner>()
let hooked = false

function killAllNow (): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Lists a freshly spawned child until it exits. */
export function trackChild (child: ChildProcess): void {
  if (!hooked) {
    hooked = true
    process.on('exit', killAllNow)
  }
  children.add(child)
  child.once('exit', () => { children.delete(child) })
  child.on('error', () => { if (child.pid === undefined) children.delete(child) })
}

/** Registers an owner for stopAll(); returns its unregistration. */
export function registerOwner (owner: ChildOwner): () => void {
  owners.add(owner)
  return () => { owners.delete(owner) }
}

/** Pids of the bpftrace children alive now (for tests and diagnostics). */
export function liveChildPids (): number[] {
  return [...children].flatMap((c) => c.pid === undefined || c.exitCode !== null || c.signalCode !== null ? [] : [c.pid])
}

/**
 * Stops every bpftrace this process runs, gracefully (each owner's shutdown: SIGINT, its END
 * flush, SIGKILL if it will not go), and kills any child no owner claims. The daemon calls it
 * from its SIGINT/SIGTERM handling before exiting; afterwards the backends start nothing more.
 */
export async function stopAll (): Promise<void> {
  await Promise.all([...owners].map(async (o) => { await o.shutdown() }))
  killAllNow()
}
