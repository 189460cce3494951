/**
 * The one shim: Node 20 lacks Promise.withResolvers (a Node 22 API) that libp2p 3 and its
 * dependencies (it-queue via mortice, noise, yamux, gossipsub, ...) call at run time.
 * It must run before any of them loads: the CLI imports it first, and ava loads it with
 * --import before each test file. Remove it once the project moves to Node >= 22.
 */
interface WithResolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}
const P = Promise as unknown as { withResolvers?: <T>() => WithResolvers<T> }
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function <T> (): WithResolvers<T> {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
export {}
