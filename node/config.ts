/**
 * A node's configuration from outside (flags, environment): parsed and validated here, once,
 * so that a bad value stops the node at start with a message that names it.
 */

/** Parses `HOST:PORT` (IPv6 as `[::1]:7070`); rejects anything else with a message naming it. */
export function parseHostPort (text: string): { host: string, port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text)
  const port = m === null ? NaN : Number(m[3])
  if (m === null || port > 65535) throw new Error(`--http: expected HOST:PORT (e.g. 127.0.0.1:7070), got ${JSON.stringify(text)}`)
  return { host: (m[1] ?? m[2]) as string, port }
}
