import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { acquireLock, SELF, tryLock } from './file-lock.js'

let dir: string
let file: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lock-'))
  file = path.join(dir, '.lock')
  return () => rm(dir, { recursive: true, force: true })
})

/** The pid of a process that has already exited. */
const deadPid = (): number =>
  Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout)

const writeHolder = (owner: object, ageMs = 0): Promise<void> =>
  writeFile(file, JSON.stringify(owner)).then(() => {
    const t = new Date(Date.now() - ageMs)
    return utimes(file, t, t)
  })

describe('file lock', () => {
  it('is exclusive until released, also between calls in one process', async () => {
    const lock = await acquireLock(file)
    expect(await tryLock(file)).toBeUndefined()
    const waiting = acquireLock(file, { pollMs: 10 })
    await lock.release()
    const next = await waiting
    expect(next.file).toBe(file)
    await next.release()
    expect(await readdir(dir)).toEqual([])
  })

  it('gives up with TIMEOUT, naming the holder, when the wait is aborted', async () => {
    const lock = await acquireLock(file)
    const wait = acquireLock(file, { signal: AbortSignal.timeout(100) })
    await expect(wait).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: new RegExp(`pid ${process.pid}`),
    })
    await lock.release()
  })

  it('breaks a lock whose holder died on this host', async () => {
    await writeHolder({ pid: deadPid(), host: hostname(), token: 'dead' })
    const lock = await tryLock(file)
    expect(lock).toBeDefined()
    await lock?.release()
  })

  it('breaks a lock left by an earlier process that had our pid (a restarted container)', async () => {
    await writeHolder({ pid: process.pid, host: hostname(), token: 'earlier-life' })
    const lock = await tryLock(file)
    expect(lock).toBeDefined()
    await lock?.release()
  })

  it('respects a live holder elsewhere until its heartbeat is a minute old', async () => {
    const remote = { pid: 1, host: 'another-host', token: 'remote' }
    await writeHolder(remote)
    expect(await tryLock(file)).toBeUndefined()
    await writeHolder(remote, 61_000)
    const lock = await tryLock(file)
    expect(lock).toBeDefined()
    await lock?.release()
  })

  it('respects a live process on this host, and never removes a lock it does not own', async () => {
    await writeHolder({ pid: process.ppid, host: hostname(), token: 'parent' })
    expect(await tryLock(file)).toBeUndefined()
    const lock = await acquireLock(path.join(dir, 'other.lock'))
    await writeFile(lock.file, JSON.stringify({ ...SELF, token: 'someone-else' }))
    await lock.release()
    expect((await readdir(dir)).sort()).toEqual(['.lock', 'other.lock'])
  })
})
