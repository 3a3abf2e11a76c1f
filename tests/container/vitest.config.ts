import { defineConfig } from 'vitest/config'

// Containers start in seconds, but a cold image pull of the model and a rolling restart take longer.
export default defineConfig({
  test: { testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false },
})
