/**
 * Bounded line splitting of a child's byte stream: chunks in, whole lines out (without the
 * "\n"). A line longer than the bound is reported and skipped, never buffered whole: a child
 * that prints without end costs us at most the bound in memory, not an out-of-memory crash.
 */

/** Default bound on one line: a full 65,536-key map prints about 2-4 MB, so 16 MiB is room. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024

export interface LineSplitterInit {
  /** @default MAX_LINE_BYTES */
  readonly maxLineBytes?: number
  /** Called with each complete line (its bytes, without "\n"); may be a view into a chunk. */
  readonly onLine: (line: Buffer) => void
  /** Called once per line that exceeded the bound, with the bytes seen when it was dropped. */
  readonly onOverlong: (bytes: number) => void
}

/** Splits a stream on "\n". */
export interface LineSplitter {
  push: (chunk: Buffer) => void
  /** The stream ended: a last line without "\n" is delivered too. */
  end: () => void
}

/** Creates a splitter; see LineSplitterInit. */
export function createLineSplitter (init: LineSplitterInit): LineSplitter {
  const max = init.maxLineBytes ?? MAX_LINE_BYTES
  let pending: Buffer[] = []
  let pendingBytes = 0
  /** Set while skipping the rest of an overlong line: bytes dropped so far. */
  let skipping: number | undefined

  const deliver = (tail: Buffer): void => {
    if (skipping !== undefined) {
      init.onOverlong(skipping + tail.length)
      skipping = undefined
      return
    }
    if (pendingBytes + tail.length > max) {
      init.onOverlong(pendingBytes + tail.length)
    } else {
      init.onLine(pending.length === 0 ? tail : Buffer.concat([...pending, tail], pendingBytes + tail.length))
    }
    pending = []
    pendingBytes = 0
  }

  return {
    push (chunk) {
      let start = 0
      for (;;) {
        const nl = chunk.indexOf(0x0a, start)
        if (nl === -1) break
        deliver(chunk.subarray(start, nl))
        start = nl + 1
      }
      if (start >= chunk.length) return
      const rest = chunk.subarray(start)
      if (skipping !== undefined) {
        skipping += rest.length
      } else if (pendingBytes + rest.length > max) {
        skipping = pendingBytes + rest.length
        pending = []
        pendingBytes = 0
      } else {
        // Copy: the stream may reuse its chunk's memory once we return.
        pending.push(Buffer.from(rest))
        pendingBytes += rest.length
      }
    },
    end () {
      if (skipping !== undefined || pendingBytes > 0) deliver(Buffer.alloc(0))
    }
  }
}
