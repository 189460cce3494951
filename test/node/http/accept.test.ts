/**
 * node/http/accept.ts: JSON unless the client prefers image/png, by the Accept header's
 * qualities and the most specific matching range.
 */
import test from 'ava'
import { prefersPng } from '../../../node/http/accept.js'

// [Accept header, answer with PNG?, why]
const cases: Array<[string | undefined, boolean, string]> = [
  [undefined, false, 'no header: CA\'s JSON'],
  ['', false, 'an empty header'],
  ['*/*', false, 'anything: JSON wins the tie'],
  ['application/json', false, 'JSON asked for'],
  ['image/png', true, 'PNG asked for'],
  ['IMAGE/PNG', true, 'media types are case-insensitive'],
  ['image/*', true, 'any image'],
  ['image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', true, 'Chromium\'s <img> header'],
  ['application/json, image/png;q=0.5', false, 'JSON preferred by quality'],
  ['application/json;q=0.5, image/png', true, 'PNG preferred by quality'],
  ['image/png;q=0, */*', false, 'PNG refused'],
  ['text/html, */*;q=0.1', false, 'a page load: JSON and PNG tie at 0.1'],
  ['garbage', false, 'an unreadable header']
]
for (const [header, png, why] of cases) {
  test(`Accept ${JSON.stringify(header)} answers ${png ? 'image/png' : 'JSON'} (${why})`, (t) => {
    t.is(prefersPng(header), png)
  })
}
