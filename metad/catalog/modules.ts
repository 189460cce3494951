/** The modules: namespaces for metrics, with CA's labels where CA had the module. */
import type { ModuleDescription } from './types.js'

export const MODULES = [
  { name: 'cpu', label: 'CPU' },
  { name: 'disk', label: 'Disk' },
  { name: 'fs', label: 'Filesystem' },
  { name: 'memory', label: 'Memory' },
  { name: 'nic', label: 'Network interface' },
  { name: 'node', label: 'Node.js' },
  { name: 'proc', label: 'Processes' },
  { name: 'synthetic', label: 'Synthetic workload' },
  { name: 'syscall', label: 'System calls' },
  { name: 'tcp', label: 'TCP' }
] as const satisfies readonly ModuleDescription[]
