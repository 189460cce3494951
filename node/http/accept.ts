/**
 * Content negotiation for the image resources: CA answered JSON with the PNG in base64; heatmesh
 * also answers the PNG bytes themselves when the client prefers `image/png` (an `<img>` tag, a
 * `curl -H 'Accept: image/png'`). The Accept header's media ranges are weighed as RFC 9110 says
 * (the most specific range that matches decides the quality); JSON wins ties, so a client that
 * sends no Accept header or `*\/*` gets CA's answer.
 */

interface Range {
  readonly type: string
  readonly subtype: string
  readonly q: number
}

function parseAccept (header: string): Range[] {
  const out: Range[] = []
  for (const part of header.split(',', 64)) {
    const [media, ...params] = part.split(';')
    const [type, subtype] = (media ?? '').trim().toLowerCase().split('/')
    if (type === undefined || type === '' || subtype === undefined || subtype === '') continue
    let q = 1
    for (const p of params) {
      const [k, v] = p.split('=')
      if (k?.trim().toLowerCase() === 'q') {
        const n = Number(v?.trim())
        q = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0
      }
    }
    out.push({ type, subtype, q })
  }
  return out
}

/** The quality the header gives `type/subtype`: from the most specific matching range, 0 if none. */
function quality (ranges: readonly Range[], type: string, subtype: string): number {
  let best = -1
  let q = 0
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1
    if (specificity > best) {
      best = specificity
      q = r.q
    }
  }
  return q
}

/** Whether the client asked for `image/png` over `application/json`. */
export function prefersPng (accept: string | undefined): boolean {
  if (accept === undefined || accept === '') return false
  const ranges = parseAccept(accept)
  return quality(ranges, 'image', 'png') > quality(ranges, 'application', 'json')
}
