/** HAProxy from Debian, configured the way the ALB target group is: /readyz checks, no retries. */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'

/** Health-check timing shared with the replicas' DRAIN_DELAY_S (as infra shares it with the ALB). */
export interface CheckTiming {
  readonly intervalMs: number
  readonly healthy: number
  readonly unhealthy: number
}

/** haproxy.cfg for one frontend and a fixed set of server slots (ports), some possibly empty. */
export function haproxyConfig(
  frontPort: number,
  slots: readonly number[],
  check: CheckTiming
): string {
  return `${GLOBAL_AND_DEFAULTS}frontend lb
  bind 127.0.0.1:${frontPort}
  default_backend replicas
${backend('replicas', slots, check)}`
}

const GLOBAL_AND_DEFAULTS = `global
  log stdout format raw local0 warning
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  # the ALB does not retry a request on another target: neither do we
  retries 0
  option http-server-close
`

/** A backend probed like an ALB target group: GET /readyz must answer 200. */
const backend = (name: string, slots: readonly number[], check: CheckTiming): string =>
  `backend ${name}
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter ${check.intervalMs} fall ${check.unhealthy} rise ${check.healthy}
${slots.map((port, i) => `  server r${i} 127.0.0.1:${port} check`).join('\n')}
`

/** Starts haproxy in the foreground with the given config; resolves once it has been spawned. */
export async function startHaproxy(dir: string, config: string): Promise<ChildProcess> {
  const file = path.join(dir, 'haproxy.cfg')
  await writeFile(file, config)
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'inherit', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  return child
}

/** A host name the balancer routes, and the server slots (ports) behind it. */
export interface HostBackend {
  readonly host: string
  readonly slots: readonly number[]
}

/**
 * haproxy.cfg routing by Host header as the ALB's listener rules do (one backend per app; no
 * match: 404), each backend checked like its target group.
 */
export function hostRoutingConfig(
  frontPort: number,
  backends: readonly HostBackend[],
  check: CheckTiming
): string {
  const name = (i: number) => `app${i}`
  return `${GLOBAL_AND_DEFAULTS}frontend lb
  bind 127.0.0.1:${frontPort}
${backends.map((b, i) => `  use_backend ${name(i)} if { hdr(host) -i ${b.host} }`).join('\n')}
  default_backend no-app
backend no-app
  http-request return status 404 content-type application/json string '{"error":{"code":"NOT_FOUND","message":"no app for this host"}}'
${backends.map((b, i) => backend(name(i), b.slots, check)).join('')}`
}
