/**
 * sim: the large-scale simulator. The daemon's own protocol core on every simulated node, over a
 * simulated network in virtual time, with faults; reports and plots. Other folders (bench,
 * tests, the CLI) use it through this face.
 *
 * @packageDocumentation
 * @example
 * import { DEFAULT_SIM_OPTIONS, runSimulation, writeReport } from './sim/index.js'
 * const result = runSimulation({ ...DEFAULT_SIM_OPTIONS, nodes: 2000, duration: 120, seed: '7' })
 * console.log(result.summary.definition_convergence_s)
 * writeReport('out/sim', result)
 */
export { NO_AGGREGATION, type Aggregation, type AggregationNode, type AggregationNodeInit, type AggregationOutput, type AggregationSummary } from './aggregation.js'
export { runSimCli, type SimCliIo } from './cli.js'
export { GOSSIPSUB, RPC_BYTES } from './gossipsub.js'
export { formatLatency, parseLatency, type LatencyModel } from './network.js'
export { DEFAULT_SIM_OPTIONS, instrumentationTimes, MAX_SIM_NODES, parseSimArgs, SIM_HELP, type SimOptions } from './options.js'
export { recoveryText, REPORT_FILES, reportMarkdown, rootLoadText, writeReport } from './report.js'
export { runSimulation, type NodeLoad, type RootLoad, type SimResult, type SimSeries, type SimSummary, type Spread } from './run.js'
export { EMPTY_SCENARIO, parseScenario, type CrashFault, type LossBurst, type PartitionFault, type Scenario, type SlowNodes } from './scenario.js'
export { createSimulator, SIM_EPOCH, type Simulator, type SimHooks, type SimNodeState } from './simulator.js'
export { createMergeLayer, type MergeLayer, type MergeLayerOptions, type MergeOracleReport } from './merge-layer.js'
