/** `pnpm rehearsal`: runs the local production rehearsal and prints its report. */
import { runRehearsal } from './rehearsal.ts'

const report = await runRehearsal(Number(process.env.REPLICAS ?? 3))
const { load } = report
console.log(
  `\nrequests sent: ${load.sent}, non-2xx: ${load.non2xx}, p50 ${load.p50Ms.toFixed(1)} ms, ` +
    `p99 ${load.p99Ms.toFixed(1)} ms during the roll; versions served: ${load.versions.join(' -> ')}; ` +
    `stops: ${report.stops.map((s) => `exit ${s.exitCode} in ${s.seconds.toFixed(1)} s`).join(', ')}; ` +
    `${report.seconds.toFixed(0)} s in all`
)
process.exit(load.non2xx === 0 ? 0 : 1)
