import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, readApiKeys } from './config.js'

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      DRAIN_DELAY_S: 0,
    })
    expect(config.MODEL_URI).toBeUndefined()
    expect(config.INFERENCE_THREADS).toBeGreaterThanOrEqual(1)
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('coerces numbers and treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '9000', MODEL_URI: '', MAX_QUEUE: '8' })
    expect(config.PORT).toBe(9000)
    expect(config.MAX_QUEUE).toBe(8)
    expect(config.MODEL_URI).toBeUndefined()
  })

  it('reports every invalid variable at once, with its value', () => {
    let error: unknown
    try {
      loadConfig({ PORT: '99999', LOG_LEVEL: 'loud', MAX_QUEUE: 'many', DRAIN_DELAY_S: '-1' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    for (const part of [
      'PORT="99999"',
      'LOG_LEVEL="loud"',
      'MAX_QUEUE="many"',
      'DRAIN_DELAY_S="-1"',
    ]) {
      expect(message).toContain(part)
    }
  })
})

describe('readApiKeys', () => {
  it('joins keys from API_KEYS and API_KEYS_FILE, ignoring blanks', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const dir = await mkdtemp(`${tmpdir()}/keys-`)
    await writeFile(`${dir}/keys`, 'file-key-1\n\n file-key-2 \n')
    const config = loadConfig({ API_KEYS: 'a, b,,', API_KEYS_FILE: `${dir}/keys` })
    expect(readApiKeys(config)).toEqual(['a', 'b', 'file-key-1', 'file-key-2'])
    expect(readApiKeys(loadConfig({}))).toEqual([])
  })
})
