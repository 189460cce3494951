/** abortScope: one operation's signal from its sources and its budget, released when the operation ends. */
import { getEventListeners } from 'node:events'
import test from 'ava'
import { abortScope } from '../../../node/mesh/abort-scope.js'

test('a source aborting aborts the scope with its reason', (t) => {
  const shutdown = new AbortController()
  const scope = abortScope([shutdown.signal, undefined], 60_000)
  shutdown.abort(new Error('stopping'))
  t.true(scope.signal.aborted)
  t.is((scope.signal.reason as Error).message, 'stopping')
  t.false(scope.timedOut)
  scope.dispose()
})

test('an exhausted budget aborts the scope with a TimeoutError', async (t) => {
  const scope = abortScope([new AbortController().signal], 5)
  await new Promise<void>((resolve) => scope.signal.addEventListener('abort', () => { resolve() }, { once: true }))
  t.true(scope.timedOut)
  t.is((scope.signal.reason as DOMException).name, 'TimeoutError')
  scope.dispose()
})

test('a source already aborted aborts the scope at once', (t) => {
  const caller = new AbortController()
  caller.abort(new Error('no'))
  const scope = abortScope([new AbortController().signal, caller.signal], 60_000)
  t.true(scope.signal.aborted)
  t.is((scope.signal.reason as Error).message, 'no')
})

test('disposed scopes leave no listener on a long-lived source: nothing accumulates per operation', (t) => {
  const shutdown = new AbortController()
  for (let i = 0; i < 1000; i++) abortScope([shutdown.signal], 60_000).dispose()
  t.is(getEventListeners(shutdown.signal, 'abort').length, 0)
  const open = abortScope([shutdown.signal], 60_000)
  t.is(getEventListeners(shutdown.signal, 'abort').length, 1)
  open.dispose()
  t.is(getEventListeners(shutdown.signal, 'abort').length, 0)
  shutdown.abort()
  t.false(open.signal.aborted, 'a disposed scope no longer follows its sources')
})
