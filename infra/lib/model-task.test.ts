import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { logicalId, RESNET, servingApp } from './test-support.js'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BUCKET_NAME = { 'Fn::ImportValue': 'resnet-model-store:ModelBucketName' }

const plain = servingApp()
const t = plain.template(plain.service)

/** Synthesizes resnet with its Dockerfile as an asset; returns the image asset and its staging. */
function synthAsset(architecture: 'X86_64' | 'ARM64') {
  const { app, service } = servingApp({
    apps: [
      {
        ...RESNET,
        image: { kind: 'asset', directory: REPO_ROOT, file: 'apps/resnet/Dockerfile' },
        size: { cpu: 2048, memoryMiB: 4096, architecture, modelCacheGiB: 5 },
      },
    ],
  })
  const outdir = app.synth().directory
  const manifest = JSON.parse(
    readFileSync(path.join(outdir, `${service.stackName}.assets.json`), 'utf8')
  ) as { dockerImages: Record<string, { source: Record<string, string> }> }
  const images = Object.values(manifest.dockerImages)
  const source = images[0]!.source
  return { images, source, staged: path.join(outdir, source.directory!) }
}

/** Every path under `dir`, relative to it. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(prefix, entry.name)
    return entry.isDirectory() ? [rel, ...walk(dir, rel)] : [rel]
  })
}

describe('ModelTask image asset', () => {
  const x86 = synthAsset('X86_64')

  it('builds apps/resnet/Dockerfile with the repository root as context, for linux/amd64', () => {
    expect(x86.images).toHaveLength(1)
    expect(x86.source).toMatchObject({
      dockerFile: 'apps/resnet/Dockerfile',
      platform: 'linux/amd64',
    })
  })

  it('honours the root .dockerignore: no node_modules, dist, infra or tests in the context', () => {
    const files = walk(x86.staged)
    expect(files).toContain(path.join('apps', 'resnet', 'Dockerfile'))
    expect(files).toContain('pnpm-lock.yaml')
    expect(existsSync(path.join(x86.staged, 'packages', 'server', 'package.json'))).toBe(true)
    const excluded = files.filter((f) =>
      /(^|\/)(node_modules|dist|infra|tests|cdk\.out)(\/|$)/.test(f)
    )
    expect(excluded).toEqual([])
    // The whole context is a few hundred source files, so hashing it at synth is quick.
    expect(files.length).toBeLessThan(500)
  })

  it('builds for linux/arm64 when the task runs on ARM64', () => {
    expect(synthAsset('ARM64').source.platform).toBe('linux/arm64')
  })
})

describe('ModelTask: definition and container', () => {
  const container = () =>
    (
      t.findResources('AWS::ECS::TaskDefinition')[logicalId(plain.service.task.taskDefinition)]
        ?.Properties as {
        ContainerDefinitions: Record<string, unknown>[]
      }
    ).ContainerDefinitions[0]

  it('is a Fargate task of 2 vCPU, 4 GiB, X86_64, with 25 GiB of ephemeral storage', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '2048',
      Memory: '4096',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      EphemeralStorage: { SizeInGiB: 25 },
    })
  })

  it("gives the container the server's env contract", () => {
    expect(container()?.Environment).toEqual([
      { Name: 'PORT', Value: '8080' },
      { Name: 'HOST', Value: '0.0.0.0' },
      { Name: 'MODEL_URI', Value: { 'Fn::Join': ['', ['s3://', BUCKET_NAME, '/models/resnet/']] } },
      { Name: 'MODEL_CACHE_DIR', Value: '/var/cache/models' },
      { Name: 'LOG_LEVEL', Value: 'info' },
      { Name: 'DRAIN_DELAY_S', Value: '15' },
      { Name: 'SHUTDOWN_TIMEOUT_S', Value: '30' },
      { Name: 'INFERENCE_THREADS', Value: '2' },
      { Name: 'MAX_QUEUE', Value: '64' },
      { Name: 'AWS_REGION', Value: { Ref: 'AWS::Region' } },
    ])
  })

  it("checks liveness on /healthz and stops 5 s after the server's hard limit", () => {
    expect(container()).toMatchObject({
      StopTimeout: 35,
      HealthCheck: {
        Command: [
          'CMD',
          'node',
          '-e',
          expect.stringContaining("fetch('http://127.0.0.1:8080/healthz')"),
        ],
        Interval: 10,
        Timeout: 5,
        Retries: 3,
        StartPeriod: 30,
      },
    })
  })

  it('has a read-only root filesystem (ECS.5), the model cache and TMPDIR on task volumes', () => {
    const definition = t.findResources('AWS::ECS::TaskDefinition')[
      logicalId(plain.service.task.taskDefinition)
    ]?.Properties as { Volumes: unknown[] }
    expect(container()).toMatchObject({
      ReadonlyRootFilesystem: true,
      MountPoints: [
        { SourceVolume: 'model-cache', ContainerPath: '/var/cache/models', ReadOnly: false },
        { SourceVolume: 'tmp', ContainerPath: '/var/tmp/app', ReadOnly: false },
      ],
    })
    expect(definition.Volumes).toEqual([{ Name: 'model-cache' }, { Name: 'tmp' }])
  })

  it("runs the image tag from the app's ECR repository", () => {
    expect(JSON.stringify(container()?.Image)).toContain(':test-sha')
  })

  it('logs to a retained log group with 30 days retention', () => {
    const logGroupId = logicalId(plain.service.task.logGroup)
    t.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    })
    expect(container()?.LogConfiguration).toMatchObject({
      LogDriver: 'awslogs',
      Options: { 'awslogs-group': { Ref: logGroupId }, mode: 'non-blocking' },
    })
  })
})
