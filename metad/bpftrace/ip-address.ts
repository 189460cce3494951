/**
 * IP address text -> bytes, for predicates on `raddr`: the script compares an address's bytes
 * (cheap, no string in the kernel) while its keys print with ntop() (dotted quad for IPv4,
 * RFC 5952 text for IPv6, e.g. "::1", "::ffff:127.0.0.1"). Any valid spelling of an address
 * parses to the same bytes, so "0:0::1" finds what prints as "::1".
 *
 * Accepted: IPv4 dotted quad with decimal parts 0..255 and no leading zeros (inet_pton's rule);
 * IPv6 as up to eight hex groups of 1..4 digits with at most one "::", optionally ending in an
 * IPv4 dotted quad. Not accepted: zone ids ("fe80::1%eth0"), prefixes ("10.0.0.0/8"), brackets.
 */

/** An address: family 4 (4 bytes) or 6 (16 bytes). */
export type IpAddress =
  | { readonly family: 4, readonly bytes: readonly number[] }
  | { readonly family: 6, readonly bytes: readonly number[] }

/** Parses an IPv4 or IPv6 address, or returns undefined. */
export function parseIpAddress (text: string): IpAddress | undefined {
  if (text.length > 64) return undefined
  const v4 = parseIpv4(text)
  if (v4 !== undefined) return { family: 4, bytes: v4 }
  const v6 = parseIpv6(text)
  return v6 === undefined ? undefined : { family: 6, bytes: v6 }
}

function parseIpv4 (text: string): number[] | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  const bytes: number[] = []
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined
    const n = Number(p)
    if (n > 255) return undefined
    bytes.push(n)
  }
  return bytes
}

function parseIpv6 (text: string): number[] | undefined {
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (half: string): number[] | undefined => {
    if (half === '') return []
    const out: number[] = []
    const parts = half.split(':')
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p)
        if (v4 === undefined) return undefined
        out.push((v4[0] as number) << 8 | (v4[1] as number), (v4[2] as number) << 8 | (v4[3] as number))
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined
        out.push(parseInt(p, 16))
      }
    }
    return out
  }
  const head = groups(halves[0] as string)
  const tail = halves.length === 2 ? groups(halves[1] as string) : []
  if (head === undefined || tail === undefined) return undefined
  // An IPv4 tail is only allowed at the very end of the address.
  if (halves.length === 2 && (halves[0] as string).includes('.')) return undefined
  let all: number[]
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length
    if (missing < 1) return undefined
    all = [...head, ...new Array<number>(missing).fill(0), ...tail]
  } else {
    all = head
  }
  if (all.length !== 8) return undefined
  return all.flatMap((g) => [g >> 8, g & 0xff])
}
