// GetSigner against the SDK's own SigV4 signer: the same request must get the same headers.
import { S3Client } from '@aws-sdk/client-s3'
import { HttpRequest } from '@smithy/core/protocols'
import { describe, expect, it } from 'vitest'
import { GetSigner } from './sigv4-get.js'
import type { SigningCredentials } from './sigv4-get.js'

/** What the SDK's signer gives a GET of `path` on `host` (a client as the batch task has one). */
async function sdkHeaders(
  credentials: SigningCredentials,
  region: string,
  host: string,
  path: string,
  date: Date
): Promise<Record<string, string>> {
  const s3 = new S3Client({ region, credentials })
  const signer = await s3.config.signer({ name: 'sigv4', properties: {} } as never)
  const [hostname, port] = host.split(':')
  const signed = await signer.sign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: hostname!,
      ...(port === undefined ? {} : { port: Number(port) }),
      path,
      headers: { host },
    }),
    { signingDate: date }
  )
  s3.destroy()
  // Host is sent as given; the other headers are what the signer adds
  return Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host'))
}

const CASES = [
  {
    name: 'long-term keys, virtual-hosted bucket',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCY' },
    region: 'eu-west-1',
    host: 'photos.s3.eu-west-1.amazonaws.com',
    path: '/in/a%20b%2Bc%3Dd%26e.jpg',
  },
  {
    name: 'an ECS task role (session token), path style with a port',
    credentials: {
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret/with+chars=',
      sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJ=',
    },
    region: 'us-east-1',
    host: '127.0.0.1:4569',
    path: '/photos/in/%C3%BC%20%C3%A9/%21%27%28%29%2A~.jpg',
  },
]

describe('GetSigner', () => {
  for (const c of CASES) {
    it(`signs as the SDK does: ${c.name}`, async () => {
      const date = new Date('2026-12-04T03:04:05.678Z')
      const ours = new GetSigner().sign(
        { host: c.host, path: c.path, region: c.region, service: 's3', date },
        c.credentials
      )
      expect(ours).toEqual(await sdkHeaders(c.credentials, c.region, c.host, c.path, date))
    })
  }

  it('gives a new signature for a new day, region or key (no stale signing key)', async () => {
    const signer = new GetSigner()
    const c = CASES[0]!
    const at = (iso: string, region = c.region, credentials: SigningCredentials = c.credentials) =>
      signer.sign(
        { host: c.host, path: c.path, region, service: 's3', date: new Date(iso) },
        credentials
      )
    const days = ['2026-12-04T23:59:59.000Z', '2026-12-05T00:00:01.000Z']
    for (const iso of days) {
      expect(at(iso)).toEqual(
        await sdkHeaders(c.credentials, c.region, c.host, c.path, new Date(iso))
      )
    }
    const rotated = { ...c.credentials, secretAccessKey: 'rotated' }
    const iso = days[1]!
    expect(at(iso, 'us-west-2')).toEqual(
      await sdkHeaders(c.credentials, 'us-west-2', c.host, c.path, new Date(iso))
    )
    expect(at(iso, c.region, rotated)).toEqual(
      await sdkHeaders(rotated, c.region, c.host, c.path, new Date(iso))
    )
  })
})
