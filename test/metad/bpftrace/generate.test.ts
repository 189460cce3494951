/**
 * The generator's rules, one behaviour per case: only the clauses a target needs, predicates in
 * the kernel as early as they can run, shared probes and start maps across targets, the slot
 * layouts the runtime reads, the script protocol (READY, TICK, END), and caller bugs refused.
 * Whole scripts are pinned by golden.test.ts; these cases say which part matters and why.
 */
import test from 'ava'
import { catalog, parsePredicate, type Metric, type PredicateJson } from '../../../metad/index.js'
import { generateBpftraceProgram, type BpftraceTarget } from '../../../metad/bpftrace/index.js'
import { MAX_MAPS_PER_PROGRAM, MAX_SLOT } from '../../../metad/bpftrace/generate.js'
import { HeatmeshError } from '../../../metad/errors.js'

function metric (name: string): Metric {
  return catalog.metrics.get(name) as Metric
}

function target (slot: number, name: string, decomposition: string[] = [], predicate: PredicateJson = {}): BpftraceTarget {
  const m = metric(name)
  return { slot, metric: m, predicate: parsePredicate(predicate, m), decomposition }
}

function script (...targets: BpftraceTarget[]): string {
  return generateBpftraceProgram(targets).script
}

/** The block of `probe` (from its header line to the closing brace at column 0). */
function block (text: string, probe: string): string | undefined {
  const lines = text.split('\n')
  const start = lines.findIndex((l) => l.split(/ [/{]/)[0]?.split(', ').includes(probe))
  if (start < 0) return undefined
  if (lines[start]?.endsWith('}')) return lines[start]
  const end = lines.findIndex((l, i) => i > start && l === '}')
  return lines.slice(start, end + 1).join('\n')
}

test('a plain count needs only the aggregating probe: no start, no internal map (CA\'s rule)', (t) => {
  const s = script(target(0, 'syscall.syscalls'))
  t.is(block(s, 'tracepoint:raw_syscalls:sys_exit'), 'tracepoint:raw_syscalls:sys_exit {\n  @s0[0] = count();\n}')
  t.is(block(s, 'tracepoint:raw_syscalls:sys_enter'), undefined)
  t.false(s.includes('@_'))
})

test('a latency decomposition adds the start probe, the bucket ladder and the exit cleanup', (t) => {
  const s = script(target(0, 'syscall.syscalls', ['latency']))
  t.is(block(s, 'tracepoint:raw_syscalls:sys_enter'), 'tracepoint:raw_syscalls:sys_enter {\n  @_sys_t[tid] = nsecs;\n}')
  const exit = block(s, 'tracepoint:raw_syscalls:sys_exit') as string
  t.true(exit.includes('$sys_s = @_sys_t[tid];'))
  t.true(exit.includes('$sys_latency = nsecs - $sys_s;'))
  t.true(exit.includes('@s0[$sys_latency_b] = count();'))
  t.false(exit.includes('delete('), 'an unfiltered start is overwritten by the next entry, not deleted')
  t.is(block(s, 'tracepoint:sched:sched_process_exit'), 'tracepoint:sched:sched_process_exit {\n  delete(@_sys_t[tid]);\n}')
  t.true(s.includes('clear(@_sys_t);'))
})

test('a predicate on a field known at the exit alone filters the exit probe, with no start probe', (t) => {
  const s = script(target(0, 'syscall.syscalls', [], { eq: ['execname', 'bash'] }))
  t.is(block(s, 'tracepoint:raw_syscalls:sys_exit'), 'tracepoint:raw_syscalls:sys_exit /comm == "bash"/ {\n  @s0[0] = count();\n}')
  t.is(block(s, 'tracepoint:raw_syscalls:sys_enter'), undefined)
})

test('a predicate on start-known fields filters the start probe too, and a filtered start is deleted once used', (t) => {
  const s = script(target(0, 'syscall.syscalls', ['latency'], { eq: ['pid', '42'] }))
  t.regex(block(s, 'tracepoint:raw_syscalls:sys_enter') as string, /^tracepoint:raw_syscalls:sys_enter \/pid == 42\/ \{/)
  const exit = block(s, 'tracepoint:raw_syscalls:sys_exit') as string
  t.regex(exit, /^tracepoint:raw_syscalls:sys_exit \/pid == 42\/ \{/)
  t.true(exit.includes('  @s0[$sys_latency_b] = count();'), 'the filter already decides: no second test')
  t.true(exit.includes('delete(@_sys_t[tid]);'))
})

test('a latency predicate is tested after the lookup; the start stays unfiltered', (t) => {
  const s = script(target(0, 'syscall.syscalls', ['execname'], { gt: ['latency', 1000000] }))
  t.regex(block(s, 'tracepoint:raw_syscalls:sys_enter') as string, /^tracepoint:raw_syscalls:sys_enter \{/)
  const exit = block(s, 'tracepoint:raw_syscalls:sys_exit') as string
  t.regex(exit, /^tracepoint:raw_syscalls:sys_exit \{/)
  t.true(exit.includes('if ($sys_latency > 1000000) {\n      @s0[comm] = count();'))
  t.false(exit.includes('$sys_latency_b'), 'no decomposition by latency, no ladder')
})

test('a mixed predicate puts its start-known part on both probes and the rest in the slot\'s test', (t) => {
  const s = script(target(0, 'syscall.syscalls', [], { and: [{ eq: ['execname', 'bash'] }, { gt: ['latency', 1000] }] }))
  t.regex(block(s, 'tracepoint:raw_syscalls:sys_enter') as string, /\/comm == "bash"\//)
  const exit = block(s, 'tracepoint:raw_syscalls:sys_exit') as string
  t.regex(exit, /\/comm == "bash"\//)
  t.true(exit.includes('if (comm == "bash" && $sys_latency > 1000) {'))
})

test('syscall targets share one start probe and one start map; each slot aggregates under its own test', (t) => {
  const s = script(
    target(3, 'syscall.syscalls', ['latency'], { eq: ['pid', '1'] }),
    target(7, 'syscall.syscalls', ['execname', 'latency'], { eq: ['pid', '2'] }),
    target(9, 'syscall.syscalls', ['syscall'], { eq: ['execname', 'sh'] })
  )
  t.is(s.split('\n').filter((l) => l.startsWith('tracepoint:raw_syscalls:sys_enter')).length, 1)
  t.regex(block(s, 'tracepoint:raw_syscalls:sys_enter') as string, /\/pid == 1 \|\| pid == 2\//)
  const exit = block(s, 'tracepoint:raw_syscalls:sys_exit') as string
  t.regex(exit, /\/pid == 1 \|\| pid == 2 \|\| comm == "sh"\//)
  t.is(exit.split('$sys_s = @_sys_t[tid];').length, 2, 'one lookup for both latency slots')
  t.is(exit.split('$sys_latency_b = 0;').length, 2, 'one ladder for both latency slots')
  t.true(exit.includes('if (pid == 1) {\n      @s3[$sys_latency_b] = count();'))
  t.true(exit.includes('if (pid == 2) {\n      @s7[comm, $sys_latency_b] = count();'))
  t.true(exit.includes('if (comm == "sh") {\n    @s9[$args_id] = count();'), 'a slot without latency needs no start')
})

test('one unfiltered target leaves the shared start probe unfiltered and its entries overwritten', (t) => {
  const s = script(target(0, 'syscall.syscalls', ['latency'], { eq: ['pid', '1'] }), target(1, 'syscall.syscalls', ['latency']))
  t.regex(block(s, 'tracepoint:raw_syscalls:sys_enter') as string, /^tracepoint:raw_syscalls:sys_enter \{/)
  t.false((block(s, 'tracepoint:raw_syscalls:sys_exit') as string).includes('delete('))
})

test('metrics that share a probe share its block, each use under its own condition', (t) => {
  const s = script(target(0, 'cpu.thread_executions', ['runtime']), target(1, 'cpu.runqueue_latency', ['latency']))
  t.is(s.split('\n').filter((l) => l.startsWith('tracepoint:sched:sched_switch')).length, 1)
  const sw = block(s, 'tracepoint:sched:sched_switch') as string
  t.true(sw.includes('@_te_t[$args_next_pid] = nsecs;'))
  t.true(sw.includes('@_rq_t[$args_prev_pid] = nsecs;'))
  t.true(sw.includes('@s0[$te_runtime_b] = count();'))
  t.true(sw.includes('@s1[$rq_latency_b] = count();'))
})

test('probes with the same body share one block (fsync and fdatasync)', (t) => {
  const s = script(target(0, 'fs.fsync_ops', ['latency']))
  t.true(s.includes('\ntracepoint:syscalls:sys_enter_fsync, tracepoint:syscalls:sys_enter_fdatasync {\n'))
  t.true(s.includes('\ntracepoint:syscalls:sys_exit_fsync, tracepoint:syscalls:sys_exit_fdatasync {\n'))
})

test('scalar tracepoint fields are read once at the top of a block; filters read them directly', (t) => {
  const exit = block(script(target(0, 'syscall.syscalls', ['syscall'], { ne: ['syscall', 'read'] })), 'tracepoint:raw_syscalls:sys_exit') as string
  t.is(exit, 'tracepoint:raw_syscalls:sys_exit /!(args->id == 0)/ {\n  $args_id = args->id;\n  @s0[$args_id] = count();\n}')
  const sw = block(script(target(0, 'cpu.thread_executions', ['leavereason'])), 'tracepoint:sched:sched_switch') as string
  t.is(sw.split('= args->prev_state;').length, 2)
  t.false(/[^$]args->prev_state [=!]/.test(sw.replace(/\$args_prev_state = args->prev_state;/, '')), 'no other direct read in the body')
})

test('gathered values are stored at the start and read back; a name gathered at issue keys disk I/O', (t) => {
  const s = script(target(0, 'disk.physio_ops', ['execname']))
  t.true((block(s, 'tracepoint:block:block_rq_issue') as string).includes('@_io_execname[$args_dev, $args_sector] = args->comm;'))
  const done = block(s, 'tracepoint:block:block_rq_complete') as string
  t.true(done.includes('$io_execname = @_io_execname[$args_dev, $args_sector];'))
  t.true(done.includes('@s0[$io_execname] = count();'))
  t.true(done.includes('delete(@_io_execname[$args_dev, $args_sector]);'), 'disk entries are deleted once used')
})

test('values gathered off the start path are tested for presence before use', (t) => {
  const sw = block(script(target(0, 'cpu.runqueue_latency', ['pid'])), 'tracepoint:sched:sched_switch') as string
  t.true(sw.includes('@_rq_pid[$args_prev_pid] = pid;'))
  t.true(sw.includes('if ($rq_pid != 0) {\n        @s0[$rq_pid] = count();'))
  t.false(sw.includes('delete(@_rq_pid'), 'a thread\'s pid is kept until it exits')
})

test('slot layouts give each map, its key decodings, its bucketing and what it adds', (t) => {
  const { slots } = generateBpftraceProgram([
    target(2, 'disk.physio_bytes', ['optype']),
    target(1, 'syscall.syscalls', ['syscall', 'latency']),
    target(0, 'tcp.connects', ['raddr'])
  ])
  t.deepEqual(slots, [
    { slot: 0, map: '@s0', discrete: { field: 'raddr', key: 'ipv4' }, value: 'count' },
    { slot: 1, map: '@s1', discrete: { field: 'syscall', key: 'syscall' }, numeric: { field: 'latency', bucketing: { kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100 } }, value: 'count' },
    { slot: 2, map: '@s2', discrete: { field: 'optype', key: 'enum:optype' }, value: 'sum' }
  ])
})

test('every kind of discrete field has its key decoding', (t) => {
  const key = (name: string, field: string): unknown => generateBpftraceProgram([target(0, name, [field])]).slots[0]?.discrete?.key
  t.is(key('syscall.syscalls', 'execname'), 'string')
  t.is(key('syscall.syscalls', 'pid'), 'decimal')
  t.is(key('syscall.syscalls', 'cgroup'), 'cgroup')
  t.is(key('tcp.connects', 'rport'), 'decimal')
  t.is(key('cpu.runqueue_latency', 'cpu'), 'cpu')
  t.is(key('disk.physio_ops', 'disk'), 'blockdev')
  t.is(key('cpu.thread_executions', 'leavereason'), 'enum:leavereason')
  t.is(key('disk.physio_ops', 'execname'), 'string')
})

test('the numeric key comes last, after a discrete key that may hold commas', (t) => {
  t.true(script(target(0, 'proc.exits', ['pexecname', 'walltime'])).includes('@s0[curtask->real_parent->comm, $exit_walltime_b] = count();'))
  t.true(script(target(0, 'proc.exits', ['walltime', 'pexecname'])).includes('@s0[curtask->real_parent->comm, $exit_walltime_b] = count();'))
})

test('disk.physio_bytes sums bytes instead of counting', (t) => {
  t.true(script(target(0, 'disk.physio_bytes', ['disk'])).includes('@s0[$args_dev] = sum($args_nr_sector * 512);'))
})

test('the script follows the protocol: READY, then TICK and each slot once a second, END after the last prints', (t) => {
  const s = script(target(5, 'proc.forks'), target(1, 'syscall.syscalls', ['latency']))
  const lines = s.split('\n')
  t.is(lines.filter((l) => l.startsWith('BEGIN')).join(), 'BEGIN { printf("READY\\n"); }')
  t.is(lines.filter((l) => l.startsWith('interval:')).join(), 'interval:s:1 { printf("TICK\\n"); print(@s1); clear(@s1); print(@s5); clear(@s5); }')
  t.is(lines.filter((l) => l.startsWith('END')).join(), 'END { print(@s1); clear(@s1); print(@s5); clear(@s5); clear(@_sys_t); printf("END\\n"); }')
  t.true(s.endsWith('}\n'))
})

test('no target gives a script that only ticks', (t) => {
  const { script: s, slots } = generateBpftraceProgram([])
  t.deepEqual(slots, [])
  t.true(s.includes('interval:s:1 { printf("TICK\\n"); }'))
  t.true(s.includes('END { printf("END\\n"); }'))
})

test('generation is deterministic and ignores the order of targets', (t) => {
  const a = target(0, 'syscall.syscalls', ['latency'], { eq: ['pid', '1'] })
  const b = target(1, 'tcp.connects', ['raddr'])
  t.is(script(a, b), script(b, a))
  t.is(script(a, b), script(a, b))
})

test('a predicate nothing can satisfy keeps its map declared under a false condition', (t) => {
  const s = script(target(0, 'syscall.syscalls', ['execname'], { eq: ['pid', 'not-a-pid'] }))
  t.is(block(s, 'tracepoint:raw_syscalls:sys_exit'), 'tracepoint:raw_syscalls:sys_exit /0/ {\n  @s0[comm] = count();\n}')
})

test('caller bugs are refused: slots, metrics, fields and decompositions', (t) => {
  t.throws(() => script(target(1, 'proc.forks'), target(1, 'proc.execs')), { message: /slot 1 is used twice/ })
  t.throws(() => script(target(-1, 'proc.forks')), { message: /slot -1/ })
  t.throws(() => script(target(1.5, 'proc.forks')), { message: /slot 1.5/ })
  t.throws(() => script(target(MAX_SLOT + 1, 'proc.forks')), { message: /slot 65536/ })
  t.throws(() => script(target(0, 'cpu.cpus')), { message: /does not implement metric cpu.cpus/ })
  t.throws(() => script(target(0, 'proc.forks', ['hostname'])), { message: /"hostname"/ })
  t.throws(() => script(target(0, 'proc.forks', [], { eq: ['hostname', 'x'] })), { message: /"hostname"/ })
  const m = metric('syscall.syscalls')
  t.throws(() => script({ slot: 0, metric: m, predicate: parsePredicate({}, m), decomposition: ['execname', 'pid'] }), { message: /more than one discrete/ })
  t.throws(() => script({ slot: 0, metric: m, predicate: parsePredicate({}, m), decomposition: ['latency', 'latency'] }), { message: /more than one numeric/ })
})

test('more targets on one probe than its program may have maps is a resource error, not a broken script', (t) => {
  const latency = (n: number): BpftraceTarget[] => Array.from({ length: n }, (_v, i) => target(i, 'syscall.syscalls', ['latency'], { eq: ['pid', String(i + 1)] }))
  t.is(MAX_MAPS_PER_PROGRAM, 64)
  t.notThrows(() => script(...latency(63)), '63 slot maps and @_sys_t')
  const err = t.throws(() => script(...latency(64)), { instanceOf: HeatmeshError })
  t.is(err?.code, 'ECA_NORESOURCE')
  t.regex(err?.message ?? '', /tracepoint:raw_syscalls:sys_exit .* 65 maps/)
  t.notThrows(() => script(...latency(40), ...Array.from({ length: 40 }, (_v, i) => target(100 + i, 'proc.forks'))), 'maps count per probe, not per script')
})

test('a map name inside a user\'s literal is not counted as a map', (t) => {
  const many = Array.from({ length: 63 }, (_v, i) => target(i, 'syscall.syscalls', ['latency'], { eq: ['execname', '@x'] }))
  t.notThrows(() => script(...many))
})
