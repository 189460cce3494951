/**
 * /proc/net/dev (proc(5)): two header lines, then one line per network interface of the
 * reading process's network namespace: `name:` and 16 counters, 8 received (bytes, packets,
 * errs, drop, fifo, frame, compressed, multicast) then 8 transmitted (bytes, packets, errs,
 * drop, fifo, colls, carrier, compressed). Every interface is reported, loopback included:
 * nic.bytes and nic.packets are about network interfaces, not only physical ones, and a
 * predicate or decomposition on `nic` selects.
 */
import { DecodeError } from '../../../metad/index.js'
import { clip, counter } from './counter.js'

const FILE = '/proc/net/dev'

/** One interface's cumulative counters. */
export interface NicCounters {
  readonly nic: string
  readonly rxBytes: number
  readonly rxPackets: number
  readonly txBytes: number
  readonly txPackets: number
}

/**
 * Every interface of /proc/net/dev, in file order.
 * @throws DecodeError when the header is missing or a line is garbled or truncated.
 */
export function parseNetDev (text: string): readonly NicCounters[] {
  const lines = text.split('\n')
  if (lines.length < 2 || !lines[0]!.includes('|') || !lines[1]!.includes('|')) {
    throw new DecodeError(FILE, 'the two header lines are missing')
  }
  const out: NicCounters[] = []
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === '') continue
    // Interface names cannot contain ':' (dev_valid_name), so the first one ends the name; old
    // kernels printed no space after it when the first counter was wide.
    const colon = line.indexOf(':')
    const name = colon < 0 ? '' : line.slice(0, colon).trim()
    if (name === '' || /\s/.test(name)) throw new DecodeError(FILE, `line ${i + 1}: ${JSON.stringify(clip(line))} does not start with "name:"`)
    const parts = line.slice(colon + 1).trim().split(/\s+/)
    if (parts.length !== 16) throw new DecodeError(FILE, `line ${i + 1}: ${name} has ${parts.length} counters, expected 16`)
    const n = parts.map((p, k) => counter(p, FILE, `line ${i + 1} (${name} counter ${k + 1})`))
    out.push({ nic: name, rxBytes: n[0]!, rxPackets: n[1]!, txBytes: n[8]!, txPackets: n[9]! })
  }
  return out
}
