/** `pnpm rehearsal:hosts`: the two-host rehearsal (resnet rolls, catboost untouched); its report. */
import { runTwoHostRehearsal } from './two-hosts.ts'

const report = await runTwoHostRehearsal()
const line = (name: string, load: { sent: number; non2xx: number; p99Ms: number }) =>
  `${name}: ${load.sent} requests, ${load.non2xx} non-2xx, p99 ${load.p99Ms.toFixed(1)} ms`
console.log(
  `\n${line('resnet.example.com', report.resnet)}; ${line('catboost.example.com', report.catboost)}; ` +
    `resnet stops: ${report.stops.map((s) => `exit ${s.exitCode} in ${s.seconds.toFixed(1)} s`).join(', ')}; ` +
    `catboost container untouched: ${report.catboostBefore === report.catboostAfter}; ` +
    `unknown host -> ${report.unknownHostStatus}; ${report.seconds.toFixed(0)} s in all`
)
const failures = report.resnet.non2xx + report.catboost.non2xx
process.exit(failures === 0 && report.catboostBefore === report.catboostAfter ? 0 : 1)
