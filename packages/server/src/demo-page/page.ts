/**
 * The demo page served at `GET /` to browsers: choose, drop or paste an image, see the top 5,
 * the stage timings and the model. One self-contained document (no external resources), built
 * once at module load, with a Content-Security-Policy that allows only its own inline script and
 * style (by sha256) and same-origin fetches.
 */
import { createHash } from 'node:crypto'

/** The demo pages' shared stylesheet. */
export const STYLE: string = String.raw`
:root { color-scheme: light; --ink: #1b1f24; --muted: #4b5563; --accent: #0b57d0;
  --line: #6b7280; --track: #e4e9f0; --bg: #f7f8fa; --err-ink: #7f1d1d; --err-bg: #fdecec; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
header, main, footer { max-width: 56rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.25rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 0 0 .5rem; }
p { margin: .25rem 0; }
.muted { color: var(--muted); }
.warn { color: var(--err-ink); font-weight: 600; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.drop { margin: 1rem 0 .75rem; padding: 1.5rem 1rem; text-align: center; background: #fff;
  border: 2px dashed var(--line); border-radius: .75rem; cursor: pointer; }
.drop.over { border-color: var(--accent); background: #eef3fd; }
.picker { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
label { font-weight: 600; }
input[type=file] { max-width: 100%; }
input[type=password] { width: 100%; max-width: 24rem; padding: .4rem .5rem; font: inherit;
  border: 1px solid var(--muted); border-radius: .375rem; }
button { font: inherit; padding: .4rem .9rem; border-radius: .375rem; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; }
details { margin: .75rem 0; }
summary { cursor: pointer; color: var(--accent); }
#alert { margin: 1rem 0; padding: .75rem 1rem; border-radius: .5rem; color: var(--err-ink);
  background: var(--err-bg); border: 1px solid #f1b5b5; }
#alert:empty { display: none; }
#status { min-height: 1.5rem; color: var(--muted); }
.grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.4fr); gap: 1.5rem;
  align-items: start; margin: 1rem 0; }
figure { margin: 0; }
#preview { display: block; max-width: 100%; max-height: 22rem; margin: 0 auto; border-radius: .5rem;
  background: #fff; }
ol { list-style: none; margin: 0; padding: 0; }
#predictions li { margin: 0 0 .75rem; }
.row { display: flex; justify-content: space-between; gap: 1rem; }
.label { overflow-wrap: anywhere; }
.pct { font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar { height: .75rem; background: var(--track); border-radius: .375rem; overflow: hidden; }
.fill { height: 100%; width: 0; background: var(--accent); }
dl { display: grid; grid-template-columns: max-content max-content; gap: .125rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
footer { padding-bottom: 1.5rem; font-size: .875rem; }
code { font-size: .875em; }
@media (max-width: 40rem) { .grid { grid-template-columns: minmax(0, 1fr); } h1 { font-size: 1.3rem; } }
`

const SCRIPT = String.raw`
'use strict'
const $ = (id) => document.getElementById(id)
const fileInput = $('file'), drop = $('drop'), keyInput = $('key'), auth = $('auth')
const modelEl = $('model'), statusEl = $('status'), alertEl = $('alert'), retry = $('retry')
const result = $('result'), preview = $('preview'), noPreview = $('no-preview')
const list = $('predictions'), timings = $('timings')
const KEY = 'resnet-demo-api-key'
const STAGES = {
  decode: 'Decode + resize',
  preprocess: 'Preprocess (tensor)',
  queue: 'Queue',
  inference: 'Inference',
  total: 'Total (server)',
}
let last = null, controller = null, previewUrl = null

try { keyInput.value = sessionStorage.getItem(KEY) || '' } catch (e) { /* storage disabled */ }
keyInput.addEventListener('input', () => {
  try {
    if (keyInput.value) sessionStorage.setItem(KEY, keyInput.value)
    else sessionStorage.removeItem(KEY)
  } catch (e) { /* storage disabled: the key stays in this page only */ }
})

function showModel(model, status) {
  if (!model) {
    modelEl.textContent = status === 'loading' ? 'Model: still loading…' : 'Model: none loaded'
    return
  }
  let text = 'Model: ' + model.name + ' · version ' + model.version
  if (status && status !== 'ready') text += ' (' + status + ')'
  modelEl.textContent = text
  if (model.demo) {
    const warn = document.createElement('span')
    warn.className = 'warn'
    warn.textContent = ' — generated demo model: its predictions are meaningless'
    modelEl.append(warn)
  }
}

async function loadInfo() {
  try {
    const res = await fetch('./', { headers: { Accept: 'application/json' }, cache: 'no-store' })
    const info = await res.json()
    showModel(info.model, info.status)
    if (info.status === 'loading') setTimeout(loadInfo, 2000)
  } catch (e) {
    modelEl.textContent = 'Model: unknown (the service info could not be read)'
  }
}

function setAlert(title, detail) {
  alertEl.replaceChildren()
  if (!title) return
  const strong = document.createElement('strong')
  strong.textContent = title
  alertEl.append(strong)
  if (detail) {
    const p = document.createElement('p')
    p.textContent = 'Server said: ' + detail
    alertEl.append(p)
  }
}

function showPreview(file) {
  if (previewUrl) URL.revokeObjectURL(previewUrl)
  previewUrl = URL.createObjectURL(file)
  preview.hidden = false
  noPreview.hidden = true
  preview.src = previewUrl
}
preview.addEventListener('error', () => {
  preview.hidden = true
  noPreview.hidden = false
})

function waitText(res) {
  const s = Number(res.headers.get('Retry-After'))
  return Number.isFinite(s) && s > 0 ? s + ' s' : 'a moment'
}

function explain(res, body) {
  const error = body && body.error ? body.error : {}
  const message = error.message || 'HTTP ' + res.status + ' ' + res.statusText
  switch (res.status) {
    case 401:
      auth.open = true
      return ['This server needs an API key: enter it under “API key” and try again.', message]
    case 413:
      return ['This image is too large.', message]
    case 415:
      return ['This file type is not supported: ' + message, '']
    case 422:
      return ['This image could not be decoded (corrupt or truncated?).', message]
    case 503:
      return error.code === 'NOT_READY'
        ? ['The model is still loading: try again in ' + waitText(res) + '.', message]
        : ['The server is busy: try again in ' + waitText(res) + '.', message]
    default:
      return ['The image could not be classified.', message]
  }
}

function percent(score) {
  const p = score * 100
  return p > 0 && p < 0.1 ? '<0.1%' : p.toFixed(1) + '%'
}

function row(prediction) {
  const li = document.createElement('li')
  const line = document.createElement('div')
  line.className = 'row'
  const label = document.createElement('span')
  label.className = 'label'
  label.textContent = prediction.label
  const pct = document.createElement('span')
  pct.className = 'pct'
  pct.textContent = percent(prediction.score)
  line.append(label, pct)
  const bar = document.createElement('div')
  bar.className = 'bar'
  bar.setAttribute('aria-hidden', 'true')
  const fill = document.createElement('div')
  fill.className = 'fill'
  fill.style.width = Math.max(0, Math.min(100, prediction.score * 100)) + '%'
  bar.append(fill)
  li.append(line, bar)
  return li
}

function parseTiming(header) {
  const out = []
  for (const part of (header || '').split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim())
    if (!name) continue
    const dur = params.find((p) => p.startsWith('dur='))
    out.push({ name, ms: dur ? Number(dur.slice(4)) : NaN })
  }
  const order = Object.keys(STAGES)
  const rank = (n) => (order.includes(n) ? order.indexOf(n) : order.length)
  return out.sort((a, b) => rank(a.name) - rank(b.name))
}

function timingRow(name, ms) {
  const dt = document.createElement('dt')
  dt.textContent = name
  const dd = document.createElement('dd')
  dd.textContent = Number.isFinite(ms) ? ms.toFixed(1) + ' ms' : '—'
  return [dt, dd]
}

function render(body, serverTiming, elapsed) {
  if (body.model) showModel(body.model)
  list.replaceChildren(...body.predictions.slice(0, 5).map(row))
  const rows = parseTiming(serverTiming).flatMap((t) => timingRow(STAGES[t.name] || t.name, t.ms))
  timings.replaceChildren(...rows, ...timingRow('Round trip (browser)', elapsed))
  result.hidden = false
}

async function classify(file) {
  if (!file) return
  last = file
  if (controller) controller.abort()
  const mine = (controller = new AbortController())
  showPreview(file)
  setAlert('')
  retry.hidden = true
  result.hidden = true
  statusEl.textContent = 'Classifying ' + (file.name || 'the pasted image') + '…'
  const form = new FormData()
  form.append('image', file, file.name || 'pasted-image')
  const headers = {}
  const key = keyInput.value.trim()
  if (key) headers.Authorization = 'Bearer ' + key
  const started = performance.now()
  let res, body = null
  try {
    res = await fetch('predict', { method: 'POST', body: form, headers, signal: mine.signal })
    body = await res.json().catch(() => null)
  } catch (e) {
    if (mine.signal.aborted) return
    statusEl.textContent = ''
    setAlert('Could not reach the server. Check that it is running, then try again.', '')
    retry.hidden = false
    return
  }
  if (mine.signal.aborted) return
  if (res.ok && body && Array.isArray(body.predictions)) {
    render(body, res.headers.get('Server-Timing'), performance.now() - started)
    const top = body.predictions[0]
    statusEl.textContent = top ? 'Top guess: ' + top.label + ' (' + percent(top.score) + ')' : ''
    return
  }
  statusEl.textContent = ''
  const [title, detail] = explain(res, body)
  setAlert(title, detail)
  retry.hidden = res.status !== 503
  if (res.status === 401) keyInput.focus()
}

fileInput.addEventListener('change', () => classify(fileInput.files[0]))
retry.addEventListener('click', () => classify(last))
drop.addEventListener('click', () => fileInput.click())
drop.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' && e.key !== ' ') return
  e.preventDefault()
  fileInput.click()
})
document.addEventListener('dragover', (e) => {
  e.preventDefault()
  drop.classList.add('over')
})
document.addEventListener('dragleave', (e) => {
  if (!e.relatedTarget) drop.classList.remove('over')
})
document.addEventListener('drop', (e) => {
  e.preventDefault()
  drop.classList.remove('over')
  classify(e.dataTransfer && e.dataTransfer.files[0])
})
document.addEventListener('paste', (e) => {
  const file = e.clipboardData && e.clipboardData.files[0]
  if (!file) return
  e.preventDefault()
  classify(file)
})
loadInfo()
`

const BODY = `<header>
<h1>What does the model see?</h1>
<p id="model" class="muted">Model: …</p>
</header>
<main>
<div id="drop" class="drop" tabindex="0" role="button" aria-describedby="drop-help">
<p id="drop-help"><strong>Drop an image here</strong>, paste one (Ctrl+V or ⌘V), or press Enter to choose a file.</p>
<p class="muted">JPEG, PNG, WebP, GIF, AVIF or TIFF. The image is sent to this server only.</p>
</div>
<div class="picker">
<label for="file">Image file</label>
<input id="file" name="image" type="file" accept="image/*">
</div>
<details id="auth">
<summary>API key (only if this server asks for one)</summary>
<p><label for="key">API key</label></p>
<input id="key" type="password" autocomplete="off" spellcheck="false" aria-describedby="key-help">
<p id="key-help" class="muted">Kept in this browser tab only and sent as <code>Authorization: Bearer</code>.</p>
</details>
<p id="status" role="status"></p>
<div id="alert" role="alert"></div>
<p><button id="retry" type="button" hidden>Try again</button></p>
<div class="grid">
<figure>
<img id="preview" alt="Preview of the chosen image" hidden>
<figcaption id="no-preview" class="muted" hidden>No preview: this browser cannot display the file.</figcaption>
</figure>
<section id="result" aria-labelledby="result-title" hidden>
<h2 id="result-title">Top 5</h2>
<ol id="predictions"></ol>
<h2>Timings</h2>
<dl id="timings"></dl>
</section>
</div>
</main>
<footer class="muted">
<p>For programs: <code>POST /predict</code> with a multipart <code>image</code> field; service info as JSON from <code>GET /</code> with <code>Accept: application/json</code>.</p>
</footer>`

/** A self-contained page: its style, body and script inline. */
export const page = (
  title: string,
  style: string,
  body: string,
  script: string
): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
${body}
<script>${script}</script>
</body>
</html>
`

/** The whole demo page. */
export const DEMO_PAGE_HTML: string = page('Image classifier demo', STYLE, BODY, SCRIPT)

/** A CSP source of an inline script or style. */
export const sha256 = (text: string): string =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`

/**
 * The page's Content-Security-Policy: its own inline script and style only (by hash), previews
 * from `blob:` URLs, fetches to this origin, no frames, forms or base URL changes.
 */
export const DEMO_PAGE_CSP: string = pageCsp(SCRIPT, STYLE)

/** The CSP of a demo page with this inline script and style. */
export function pageCsp(script: string, style: string): string {
  return [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    'img-src blob: data:',
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * Whether an `Accept` header prefers HTML over JSON, as a browser's navigation does
 * (`text/html,…,*\/*;q=0.8`). `*\/*`, a missing header, `application/json` and ties get JSON.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false
  const q = new Map<string, number>()
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    const weight = params.find((p) => p.startsWith('q='))
    const value = weight === undefined ? 1 : Number(weight.slice(2))
    if (range && Number.isFinite(value) && value >= 0 && value <= 1 && !q.has(range)) {
      q.set(range, value)
    }
  }
  // the most specific range that matches decides each type's quality
  const html = q.get('text/html') ?? q.get('application/xhtml+xml') ?? q.get('text/*') ?? 0
  const json = q.get('application/json') ?? q.get('application/*') ?? q.get('*/*') ?? 0
  return html > json
}
