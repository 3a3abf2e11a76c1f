import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { NODE_FLAGS } from './launch.js'

const file = (name: string): Promise<string> =>
  readFile(new URL(`../${name}`, import.meta.url), 'utf8')

describe('the launch flags', () => {
  it("are the Dockerfile's CMD", async () => {
    const cmd = /^CMD (\[.*\])$/m.exec(await file('Dockerfile'))?.[1]
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', ...NODE_FLAGS, 'dist/main.js'])
  })

  it('are the "start" script', async () => {
    const pkg = JSON.parse(await file('package.json')) as { scripts: { start: string } }
    expect(pkg.scripts.start).toBe(['node', ...NODE_FLAGS, 'dist/main.js'].join(' '))
  })
})
