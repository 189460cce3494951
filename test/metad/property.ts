/** The metad tests' one way to check a fast-check property: a failure shows fast-check's report. */
import type { ExecutionContext } from 'ava'
import fc from 'fast-check'

export function holds<T> (t: ExecutionContext, property: fc.IProperty<T>, params?: fc.Parameters<T>): void {
  const result = fc.check(property, params)
  t.false(result.failed, fc.defaultReportMessage(result))
}
