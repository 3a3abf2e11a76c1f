import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['bin/**/*.test.ts', 'lib/**/*.test.ts'],
    // The first CDK synth in a worker loads aws-cdk-lib and takes seconds.
    testTimeout: 60_000,
  },
})
