#!/usr/bin/env node
// Installed entry point: load tsx's ESM hooks (heatmesh runs its TypeScript directly), then the CLI.
import { register } from 'tsx/esm/api'
register()
await import('../cli.ts')
