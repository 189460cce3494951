/**
 * Progress of a simulation on stderr: a bar redrawn in place on a terminal (at most ten times a
 * wall second), a plain line per 10 % of the simulated time otherwise (logs, CI).
 */

/** Where progress goes: a stream's write and whether it is a terminal. */
export interface ProgressSink {
  readonly isTTY?: boolean
  write: (text: string) => unknown
}

/** A progress reporter; update(simulated seconds done), then done(). */
export interface Progress {
  update: (seconds: number) => void
  done: () => void
}

/** Progress of a run of `total` simulated seconds on `sink`. */
export function createProgress (sink: ProgressSink, total: number, label: string, clock: () => number = () => performance.now()): Progress {
  const started = clock()
  let lastDraw = -Infinity
  let lastTenth = 0
  const rate = (seconds: number): string => {
    const wall = (clock() - started) / 1000
    return `${wall.toFixed(1)} s wall, ${(seconds / Math.max(wall, 1e-3)).toFixed(1)}x real time`
  }
  return {
    update (seconds) {
      const fraction = Math.min(1, seconds / total)
      if (sink.isTTY === true) {
        const now = clock()
        if (now - lastDraw < 100 && fraction < 1) return
        lastDraw = now
        const width = 30
        const filled = Math.round(fraction * width)
        sink.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${seconds.toFixed(0)}/${total} s, ${rate(seconds)}  `)
        return
      }
      const tenth = Math.floor(fraction * 10)
      if (tenth > lastTenth) {
        lastTenth = tenth
        sink.write(`${label}: ${tenth * 10}% (${seconds.toFixed(0)}/${total} simulated s, ${rate(seconds)})\n`)
      }
    },
    done () {
      if (sink.isTTY === true) sink.write('\n')
    }
  }
}
