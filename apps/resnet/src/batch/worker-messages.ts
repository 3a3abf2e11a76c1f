/** Messages between the local coordinator (`batch run`) and its worker processes, over IPC. */
import type { ShardResult } from './shard-runner.js'

/** Worker -> coordinator. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'record'; readonly outcome: string }
  | { readonly type: 'shard-done'; readonly result: ShardResult }
  | { readonly type: 'shard-failed'; readonly shard: string; readonly message: string }

/** Coordinator -> worker: the next shard, or no more work. */
export type CoordinatorMessage =
  { readonly type: 'shard'; readonly shard: string } | { readonly type: 'exit' }
