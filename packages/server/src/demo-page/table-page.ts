/**
 * The tabular app's demo page at `GET /` for browsers: a form generated from the model's
 * features.json (read from `GET /` as JSON: names, ranges, labels), and the class probabilities
 * of the answer as bars. Self-contained like the image page, with the same kind of CSP.
 */
import { page, pageCsp, STYLE } from './page.js'

const TABLE_STYLE = String.raw`
form.features { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr));
  gap: .5rem 1rem; margin: 1rem 0; }
form.features label { display: block; font-weight: 600; font-size: .9rem; }
form.features input { width: 100%; padding: .3rem .4rem; font: inherit; border: 1px solid var(--muted);
  border-radius: .375rem; }
.actions { grid-column: 1 / -1; }
`

const SCRIPT = String.raw`
'use strict'
const $ = (id) => document.getElementById(id)
const form = $('features'), modelEl = $('model'), alertEl = $('alert'), statusEl = $('status')
const list = $('probabilities'), result = $('result'), keyInput = $('key')
let features = [], labels = []

function setAlert(title, lines) {
  alertEl.replaceChildren()
  if (!title) return
  const strong = document.createElement('strong')
  strong.textContent = title
  alertEl.append(strong)
  for (const line of lines || []) {
    const p = document.createElement('p')
    p.textContent = line
    alertEl.append(p)
  }
}

function buildForm() {
  form.replaceChildren()
  features.forEach((f, i) => {
    const div = document.createElement('div')
    const label = document.createElement('label')
    label.htmlFor = 'f' + i
    label.textContent = f.name
    const input = document.createElement('input')
    input.id = 'f' + i
    input.name = f.name
    input.type = 'number'
    input.step = 'any'
    input.required = true
    if (f.min !== undefined) input.min = String(f.min)
    if (f.max !== undefined) input.max = String(f.max)
    if (f.description) input.title = f.description
    div.append(label, input)
    form.append(div)
  })
  const actions = document.createElement('div')
  actions.className = 'actions'
  const button = document.createElement('button')
  button.type = 'submit'
  button.id = 'predict'
  button.textContent = 'Predict'
  actions.append(button)
  form.append(actions)
}

async function loadInfo() {
  try {
    const res = await fetch('./', { headers: { Accept: 'application/json' }, cache: 'no-store' })
    const info = await res.json()
    if (info.status === 'loading' || !info.features) {
      modelEl.textContent = 'Model: still loading…'
      setTimeout(loadInfo, 2000)
      return
    }
    modelEl.textContent = 'Model: ' + info.model.name + ' · version ' + info.model.version +
      ' · ' + info.features.length + ' features'
    features = info.features
    labels = info.labels || []
    buildForm()
  } catch (e) {
    modelEl.textContent = 'Model: unknown (the service info could not be read)'
  }
}

function showProbabilities(prediction) {
  list.replaceChildren()
  const entries = Object.entries(prediction.probabilities).sort((a, b) => b[1] - a[1])
  for (const [label, p] of entries) {
    const li = document.createElement('li')
    const row = document.createElement('div')
    row.className = 'row'
    const name = document.createElement('span')
    name.className = 'label'
    name.textContent = label
    const pct = document.createElement('span')
    pct.className = 'pct'
    pct.textContent = (100 * p).toFixed(1) + ' %'
    row.append(name, pct)
    const bar = document.createElement('div')
    bar.className = 'bar'
    bar.setAttribute('role', 'meter')
    bar.setAttribute('aria-label', label)
    bar.setAttribute('aria-valuemin', '0')
    bar.setAttribute('aria-valuemax', '1')
    bar.setAttribute('aria-valuenow', String(p))
    const fill = document.createElement('div')
    fill.className = 'fill'
    fill.style.width = (100 * p).toFixed(1) + '%'
    bar.append(fill)
    li.append(row, bar)
    list.append(li)
  }
  $('verdict').textContent = 'Most likely: ' + prediction.label
  result.hidden = false
}

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  setAlert('')
  const instance = {}
  for (const f of features) instance[f.name] = Number(form.elements.namedItem(f.name).value)
  statusEl.textContent = 'Predicting…'
  const headers = { 'Content-Type': 'application/json' }
  if (keyInput.value) headers.Authorization = 'Bearer ' + keyInput.value
  try {
    const res = await fetch('predict', {
      method: 'POST', headers, body: JSON.stringify({ instances: [instance] }),
    })
    const body = await res.json()
    statusEl.textContent = ''
    if (!res.ok) {
      const problems = (body.error && body.error.problems) || []
      setAlert(body.error ? body.error.message : 'HTTP ' + res.status,
        problems.map((p) => (p.field ? p.field + ': ' : '') + p.problem))
      return
    }
    showProbabilities(body.predictions[0])
  } catch (e) {
    statusEl.textContent = ''
    setAlert('The server could not be reached')
  }
})

loadInfo()
`

const BODY = `<header>
<h1>Tabular classifier</h1>
<p id="model" class="muted">Model: loading…</p>
</header>
<main>
<p>Fill in every feature (the ranges come from the model's <code>features.json</code>) and predict.</p>
<details>
<summary>API key (only if this server asks for one)</summary>
<p><label for="key">API key</label></p>
<input id="key" type="password" autocomplete="off" spellcheck="false">
</details>
<form id="features" class="features" novalidate></form>
<p id="status" role="status"></p>
<div id="alert" role="alert"></div>
<section id="result" aria-labelledby="result-title" hidden>
<h2 id="result-title">Class probabilities</h2>
<p id="verdict"></p>
<ol id="probabilities"></ol>
</section>
</main>
<footer class="muted">
<p>For programs: <code>POST /predict</code> with <code>{"instances": [{"&lt;feature&gt;": &lt;number&gt;, …}]}</code>; service info as JSON from <code>GET /</code> with <code>Accept: application/json</code>.</p>
</footer>`

const ALL_STYLE = STYLE + TABLE_STYLE

/** The tabular demo page and its Content-Security-Policy. */
export const TABLE_PAGE: DemoPage = Object.freeze({
  html: page('Tabular classifier demo', ALL_STYLE, BODY, SCRIPT),
  csp: pageCsp(SCRIPT, ALL_STYLE),
})

/** A demo page for `GET /` (browsers). */
export interface DemoPage {
  readonly html: string
  readonly csp: string
}
