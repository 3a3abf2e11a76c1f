import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { App } from 'aws-cdk-lib'
import { describe, expect, it } from 'vitest'
import { contextReader, findRepoRoot } from './context.js'

const reader = (context: Record<string, unknown>) => contextReader(new App({ context }).node)

describe('contextReader', () => {
  it('reads strings, integers (from -c strings or cdk.json numbers) and enumerations', () => {
    const ctx = reader({ tag: 'abc', n: '3', m: 4, egress: 'vpc-endpoints' })
    expect(ctx.string('tag')).toBe('abc')
    expect(ctx.int('n', 1, 5)).toBe(3)
    expect(ctx.int('m', 1, 5)).toBe(4)
    expect(ctx.oneOf('egress', ['nat-gateway', 'vpc-endpoints'])).toBe('vpc-endpoints')
    expect(ctx.string('unset')).toBeUndefined()
    expect(() => {
      ctx.assertValid()
    }).not.toThrow()
  })

  it('reports every bad value at once', () => {
    const ctx = reader({ tag: '', n: '3.5', big: '9', egress: 'nat' })
    ctx.string('tag')
    ctx.int('n', 1, 5)
    ctx.int('big', 1, 5)
    ctx.oneOf('egress', ['nat-gateway', 'vpc-endpoints'])
    const attempt = () => {
      ctx.assertValid()
    }
    expect(attempt).toThrow(/context 'tag' must be a non-empty string/)
    expect(attempt).toThrow(/context 'n' must be an integer in 1\.\.5, got "3\.5"/)
    expect(attempt).toThrow(/context 'big' must be an integer in 1\.\.5, got "9"/)
    expect(attempt).toThrow(/context 'egress' must be one of nat-gateway, vpc-endpoints, got 'nat'/)
  })
})

describe('findRepoRoot', () => {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const root = path.resolve(here, '../..')

  it('finds the workspace root from bin/ and from dist/bin/', () => {
    expect(findRepoRoot(here)).toBe(root)
    expect(findRepoRoot(path.join(here, '..', 'dist', 'bin'))).toBe(root)
  })

  it('fails clearly outside a workspace', () => {
    expect(() => findRepoRoot('/')).toThrow(/No pnpm-workspace.yaml found above \//)
  })
})
