/** Scenario faults: crashes of processes and of whole hosts (silent), from flags and files. */
import test from 'ava'
import { InvalidFieldError } from '../../metad/index.js'
import { parseCrashFlag, parseScenario } from '../../sim/scenario.js'

test('--crash takes an optional restart and an optional silent mark', (t) => {
  t.deepEqual(parseCrashFlag('0.1@20'), { fraction: 0.1, at: 20 })
  t.deepEqual(parseCrashFlag('0.1@20,restart@40'), { fraction: 0.1, at: 20, restartAt: 40 })
  t.deepEqual(parseCrashFlag('0.1@20,silent'), { fraction: 0.1, at: 20, silent: true })
  t.deepEqual(parseCrashFlag('0.1@20,restart@40,silent'), { fraction: 0.1, at: 20, restartAt: 40, silent: true })
  t.throws(() => parseCrashFlag('0.1@20,quiet'), { instanceOf: InvalidFieldError, message: /--crash.*\[,silent\]/ })
  t.throws(() => parseCrashFlag('0.1@20,silent,restart@40'), { instanceOf: InvalidFieldError, message: /--crash/ })
})

test('a scenario file\'s crash may be silent, and only a boolean says so', (t) => {
  t.deepEqual(parseScenario({ crash: [{ fraction: 0.2, at: 5, silent: true }] }).crashes, [{ fraction: 0.2, at: 5, silent: true }])
  t.deepEqual(parseScenario({ crash: [{ fraction: 0.2, at: 5, restart: 9, silent: false }] }).crashes, [{ fraction: 0.2, at: 5, restartAt: 9 }])
  t.throws(() => parseScenario({ crash: [{ fraction: 0.2, at: 5, silent: 'yes' }] }), { instanceOf: InvalidFieldError, message: /crash\[0\]\.silent/ })
})
