// Runs the HTTP cache test suite (npm http-cache-tests, pinned in package.json)
// against `notmod serve` and gates on the required tests.
//
//   origin.mjs  the suite's origin server on 127.0.0.1:<ephemeral>
//   NOTMOD_BIN  serve --origin http://127.0.0.1:<o> --listen 127.0.0.1:<p> --admin "" $NOTMOD_SERVE_ARGS
//   client.mjs  the suite's client against http://127.0.0.1:<p>
//
// Each test is classified with the suite's own lib/display.mjs
// determineTestResult (kind: required, the default, / optimal / check;
// states: pass, fail, optional_fail, yes, no, setup_fail, dependency_fail,
// retry, harness_fail, untested). Required tests that do not pass are compared
// with two lists: known-failures.txt (limitations of notmod, expected to
// shrink) and disputed.txt (tests the project holds to be wrong, each with a
// reason; see the Conformance section of the project README).
//
// Exit status: 0 when every non-passing required test is listed in one of the
// two files, 1 when one is not, 2 when the harness itself could not run (bad
// arguments, a test id in both files, suite missing, proxy not starting,
// time-out).
//
// Run `node run.mjs --help` for the flags.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const SUITE_NAME = 'http-cache-tests'
const SUITE_VERSION = '0.4.5'

const USAGE = `usage: node conformance/run.mjs [flags]

Runs ${SUITE_NAME}@${SUITE_VERSION} against \`$NOTMOD_BIN serve --origin URL --listen ADDR $NOTMOD_SERVE_ARGS\`.

flags:
  --timeout SECONDS        overall time limit (default $CONFORMANCE_TIMEOUT or 300)
  --request-timeout SECS   per-request limit in the client (default 30)
  --out DIR                where results.json, summary.md and logs go (default conformance/out)
  --known FILE             known required failures (default conformance/known-failures.txt)
  --disputed FILE          required tests held to be wrong (default conformance/disputed.txt)
  --markdown               also print the summary as a Markdown table
  --verbose                also list the optimal tests that did not pass
  --suite-cli              run the suite's own cli.mjs (no per-request timeout) instead of client.mjs
  --id TEST_ID             debug one test: run the suite's cli.mjs for it, print its request and
                           response dumps (client and origin side); no gating
  --update-known-failures  rewrite the known-failures file with the required tests not passing now
                           and not disputed (the reasons of ids already listed are kept)
  -h, --help               this text

environment:
  NOTMOD_BIN               the proxy binary (scripts/conformance builds ./cmd/notmod when unset)
  NOTMOD_SERVE_ARGS        extra arguments after \`serve --origin URL --listen ADDR\`
                           (split on white space; '...' and "..." group words)
  CONFORMANCE_TIMEOUT      default for --timeout
`

// The suite's result symbols (third element of lib/display.mjs resultTypes)
// mapped to state names.
const STATE_BY_SYMBOL = {
  '-': 'untested',
  '✅': 'pass',
  '⛔️': 'fail',
  '⚠️': 'optional_fail',
  Y: 'yes',
  N: 'no',
  '🔹': 'setup_fail',
  '⁉️': 'harness_fail',
  '⚪️': 'dependency_fail',
  '↻': 'retry'
}

// Summary columns: which states each one counts.
const COLUMNS = [
  ['passed', ['pass', 'yes']],
  ['failed', ['fail', 'optional_fail', 'no']],
  ['setup-failed', ['setup_fail']],
  ['dependency-failed', ['dependency_fail']],
  ['retried', ['retry']],
  ['harness-failed', ['harness_fail']],
  ['not-run', ['untested']]
]
const KINDS = ['required', 'optimal', 'check']

// ---------------------------------------------------------------- arguments

function parseArgs (argv) {
  const opts = {
    timeout: Number(process.env.CONFORMANCE_TIMEOUT || 300),
    requestTimeout: 30,
    out: path.join(HERE, 'out'),
    known: path.join(HERE, 'known-failures.txt'),
    disputed: path.join(HERE, 'disputed.txt'),
    markdown: false,
    verbose: false,
    suiteCli: false,
    id: '',
    updateKnown: false
  }
  const need = (i, flag) => {
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`)
    return argv[i + 1]
  }
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]
    let inline
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    const value = () => {
      if (inline !== undefined) return inline
      const v = need(i, arg)
      i++
      return v
    }
    switch (arg) {
      case '--timeout': opts.timeout = Number(value()); break
      case '--request-timeout': opts.requestTimeout = Number(value()); break
      case '--out': opts.out = path.resolve(value()); break
      case '--known': opts.known = path.resolve(value()); break
      case '--disputed': opts.disputed = path.resolve(value()); break
      case '--markdown': opts.markdown = true; break
      case '--verbose': opts.verbose = true; break
      case '--suite-cli': opts.suiteCli = true; break
      case '--id': opts.id = value(); break
      case '--update-known-failures': opts.updateKnown = true; break
      case '-h': case '--help': opts.help = true; break
      default: throw new UsageError(`unknown argument ${argv[i]}`)
    }
  }
  if (!(opts.timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds')
  if (!(opts.requestTimeout > 0)) throw new UsageError('--request-timeout must be a positive number of seconds')
  return opts
}

class UsageError extends Error {}
class HarnessError extends Error {}

// splitWords splits NOTMOD_SERVE_ARGS on white space; single or double quotes
// group words (no escapes, no expansion).
function splitWords (s) {
  const words = []
  let cur = ''
  let quote = ''
  let inWord = false
  for (const ch of s || '') {
    if (quote) {
      if (ch === quote) quote = ''
      else cur += ch
    } else if (ch === '"' || ch === "'") {
      quote = ch
      inWord = true
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur)
      cur = ''
      inWord = false
    } else {
      cur += ch
      inWord = true
    }
  }
  if (quote) throw new UsageError('NOTMOD_SERVE_ARGS has an unterminated quote')
  if (inWord) words.push(cur)
  return words
}

// ---------------------------------------------------------------- processes

const children = new Set()

// start spawns a command in its own process group, with stdout and stderr
// appended to logFile (and, with echo, copied to our stdout). With
// captureStdout, stdout is collected in proc.stdout instead of the log.
function start (name, cmd, args, { logFile, cwd, env, echo, captureStdout } = {}) {
  const log = fs.openSync(logFile, 'a')
  fs.writeSync(log, `# ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`)
  const child = spawn(cmd, args, {
    cwd: cwd || HERE,
    env: env || process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const proc = { name, child, exited: false, code: null, signal: null, listeners: [], stdout: '' }
  children.add(proc)
  const onData = chunk => {
    fs.writeSync(log, chunk)
    if (echo) process.stdout.write(chunk)
    for (const l of proc.listeners) l(chunk.toString())
  }
  child.stdout.on('data', captureStdout ? chunk => { proc.stdout += chunk } : onData)
  child.stderr.on('data', onData)
  proc.done = new Promise(resolve => {
    child.on('error', err => {
      fs.writeSync(log, `# ${name}: ${err.message}\n`)
      try { fs.closeSync(log) } catch {}
      proc.error = err
      proc.exited = true
      children.delete(proc)
      resolve(proc)
    })
    child.on('close', (code, signal) => {
      proc.exited = true
      proc.code = code
      proc.signal = signal
      children.delete(proc)
      try { fs.closeSync(log) } catch {}
      resolve(proc)
    })
  })
  return proc
}

function signalGroup (proc, signal) {
  if (proc.exited || !proc.child.pid) return
  try {
    process.kill(-proc.child.pid, signal)
  } catch {
    try { proc.child.kill(signal) } catch {}
  }
}

// stop sends SIGTERM to a child's process group and SIGKILL after graceMs.
async function stop (proc, graceMs = 2000) {
  if (proc.exited) return
  signalGroup(proc, 'SIGTERM')
  let timer
  const killed = new Promise(resolve => {
    timer = setTimeout(() => { signalGroup(proc, 'SIGKILL'); resolve() }, graceMs)
  })
  await Promise.race([proc.done, killed])
  clearTimeout(timer)
  await Promise.race([proc.done, sleep(1000)])
}

async function stopAll () {
  await Promise.all([...children].map(p => stop(p)))
}

function killAllNow () {
  for (const p of children) signalGroup(p, 'SIGKILL')
}

// exitAfterStop stops the children (SIGTERM, then SIGKILL) and exits.
function exitAfterStop (code) {
  const hard = setTimeout(() => { killAllNow(); process.exit(code) }, 4000)
  stopAll().finally(() => { clearTimeout(hard); process.exit(code) })
}

function sleep (ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function canConnect (port) {
  return new Promise(resolve => {
    const sock = net.connect({ host: '127.0.0.1', port })
    const done = ok => { sock.destroy(); resolve(ok) }
    sock.setTimeout(500, () => done(false))
    sock.on('connect', () => done(true))
    sock.on('error', () => done(false))
  })
}

function tail (file, lines = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map(l => '    ' + l).join('\n')
  } catch {
    return '    (no log)'
  }
}

// startOrigin runs origin.mjs and waits for its "origin listening" line.
async function startOrigin (out, echo) {
  const logFile = path.join(out, 'origin.log')
  const proc = start('origin', process.execPath, [path.join(HERE, 'origin.mjs'), '127.0.0.1'],
    { logFile, cwd: suiteDir(), echo })
  let buf = ''
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new HarnessError('origin did not start within 15s')), 15000)
    proc.listeners.push(chunk => {
      buf += chunk
      const m = /origin listening 127\.0\.0\.1:(\d+)/.exec(buf)
      if (m) { clearTimeout(timer); resolve(Number(m[1])) }
    })
    proc.done.then(() => {
      clearTimeout(timer)
      reject(new HarnessError(`origin exited before listening (code ${proc.code})\n${tail(logFile)}`))
    })
  })
  return { proc, port }
}

// startProxy runs the proxy on a free port and waits (bounded) until it
// accepts connections; a proxy that exits early saying "address already in
// use" is retried on another port (the port was taken in between).
async function startProxy (bin, extraArgs, originPort, out, echo) {
  const logFile = path.join(out, 'proxy.log')
  const attempts = 3
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = await freePort()
    const args = ['serve', '--origin', `http://127.0.0.1:${originPort}`, '--listen', `127.0.0.1:${port}`, '--admin', '', ...extraArgs]
    const proc = start('proxy', bin, args, { logFile, echo })
    let output = ''
    proc.listeners.push(chunk => { output += chunk })
    const deadline = Date.now() + 20000
    while (Date.now() < deadline && !proc.exited) {
      if (await canConnect(port)) return { proc, port, args }
      await sleep(100)
    }
    if (!proc.exited) {
      await stop(proc)
      throw new HarnessError(`proxy did not accept connections on 127.0.0.1:${port} within 20s\n${tail(logFile)}`)
    }
    if (proc.error) throw new HarnessError(`cannot run proxy ${bin}: ${proc.error.message}`)
    if (attempt === attempts || !/address already in use/i.test(output)) {
      throw new HarnessError(`proxy exited (code ${proc.code}, signal ${proc.signal}) before accepting connections\n${tail(logFile)}`)
    }
  }
}

// ---------------------------------------------------------------- suite

function suiteDir () {
  return path.join(HERE, 'node_modules', SUITE_NAME)
}

function checkSuite () {
  const pkgFile = path.join(suiteDir(), 'package.json')
  let pkg
  try {
    pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'))
  } catch {
    throw new HarnessError(`${SUITE_NAME} is not installed: run \`npm ci\` in ${HERE}`)
  }
  if (pkg.version !== SUITE_VERSION) {
    throw new HarnessError(`${SUITE_NAME} ${pkg.version} is installed, want ${SUITE_VERSION}: run \`npm ci\` in ${HERE}`)
  }
}

async function loadSuite () {
  const tests = (await import(`${SUITE_NAME}/tests/index.mjs`)).default
  const surrogate = (await import(`${SUITE_NAME}/tests/surrogate-control.mjs`)).default
  const display = await import(`${SUITE_NAME}/lib/display.mjs`)
  // The same list the suite's cli.mjs runs.
  return { suites: [...tests, surrogate], display }
}

// classify turns the raw results (id -> true | [errorName, message]) into one
// record per test the command-line client runs (browser_only tests excluded).
function classify (suites, display, raw) {
  const records = []
  for (const suite of suites) {
    for (const test of suite.tests) {
      if (test.browser_only === true) continue
      const symbol = display.determineTestResult(suites, test.id, raw)[2]
      const state = STATE_BY_SYMBOL[symbol]
      if (!state) throw new HarnessError(`unknown result symbol ${symbol} for ${test.id}`)
      const r = raw[test.id]
      records.push({
        id: test.id,
        name: test.name,
        suite: suite.id,
        kind: test.kind || 'required',
        state,
        symbol,
        error: Array.isArray(r) ? r[0] : undefined,
        message: Array.isArray(r) ? r[1] : undefined,
        depends_on: test.depends_on
      })
    }
  }
  return records
}

function summarize (records) {
  const summary = {}
  for (const kind of KINDS) {
    const row = { total: 0 }
    for (const [col] of COLUMNS) row[col] = 0
    for (const r of records) {
      if (r.kind !== kind) continue
      row.total++
      for (const [col, states] of COLUMNS) if (states.includes(r.state)) row[col]++
    }
    summary[kind] = row
  }
  return summary
}

// ---------------------------------------------------------------- known failures and disputed tests

// readList reads a list of test ids: one id per line, '#' starts a comment;
// the comment after an id on the same line is that id's reason. It returns
// the entries in file order ({ id, reason, line }). A missing file is an empty
// list. With needReason, an id without a reason, and in any case an id listed
// twice, is an error.
function readList (file, { needReason = false } = {}) {
  let text
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw new HarnessError(`cannot read ${file}: ${err.message}`)
  }
  const entries = []
  const seen = new Map()
  text.split('\n').forEach((raw, i) => {
    const hash = raw.indexOf('#')
    const id = (hash < 0 ? raw : raw.slice(0, hash)).trim()
    if (!id) return
    const line = i + 1
    if (/\s/.test(id)) throw new HarnessError(`${file}:${line}: one test id per line, got "${id}"`)
    const reason = hash < 0 ? '' : raw.slice(hash + 1).trim()
    if (needReason && !reason) throw new HarnessError(`${file}:${line}: ${id} has no reason (write it after '#')`)
    if (seen.has(id)) throw new HarnessError(`${file}:${line}: ${id} is already listed on line ${seen.get(id)}`)
    seen.set(id, line)
    entries.push({ id, reason, line })
  })
  return entries
}

// readLists reads the known-failures and disputed lists and refuses a test
// id that is in both.
function readLists (opts) {
  const known = readList(opts.known)
  const disputed = readList(opts.disputed, { needReason: true })
  const disputedIds = new Set(disputed.map(e => e.id))
  const both = known.filter(e => disputedIds.has(e.id)).map(e => e.id)
  if (both.length) {
    throw new HarnessError(`${both.length} test id(s) in both ${displayName(opts.known)} and ${displayName(opts.disputed)} (a test is either a known failure or disputed): ${both.join(' ')}`)
  }
  return { known, disputed }
}

// displayName gives a list file's path relative to the repository root when
// it is inside it.
function displayName (file) {
  const fromRoot = path.relative(path.dirname(HERE), file)
  return fromRoot.startsWith('..') ? file : fromRoot
}

// writeKnown rewrites the known-failures file with the required tests that do
// not pass and are not disputed; ids already listed keep their reason, new
// ones get their current state as a comment.
function writeKnown (file, records, known, disputedIds) {
  const header = `# Required tests of ${SUITE_NAME}@${SUITE_VERSION} that \`notmod serve\` does not pass:
# limitations of notmod. Tests the project holds to be wrong are in disputed.txt
# instead; a test id is in one file or the other, never both.
# One test id per line; '#' starts a comment, and the comment after an id is its
# reason. scripts/conformance fails when a required test does not pass and is
# in neither file, and notes listed tests that pass now so they can be removed:
# this list only shrinks.
# Rewrite with: scripts/conformance --update-known-failures
`
  const reasons = new Map(known.map(e => [e.id, e.reason]))
  const lines = records
    .filter(r => r.kind === 'required' && r.state !== 'pass' && !disputedIds.has(r.id))
    .map(r => `${r.id}  # ${reasons.get(r.id) || r.state}`)
  fs.writeFileSync(file, header + (lines.length ? '\n' + lines.join('\n') + '\n' : ''))
}

// ---------------------------------------------------------------- output

function pad (s, n, right) {
  s = String(s)
  return right ? s.padStart(n) : s.padEnd(n)
}

function textTable (summary) {
  const head = ['kind', ...COLUMNS.map(c => c[0]), 'total']
  const rows = KINDS.map(k => [k, ...COLUMNS.map(c => summary[k][c[0]]), summary[k].total])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => String(r[i]).length)))
  const fmt = r => r.map((c, i) => pad(c, widths[i], i > 0)).join('  ')
  return [fmt(head), ...rows.map(fmt)].join('\n')
}

function markdownTable (summary) {
  const head = ['kind', ...COLUMNS.map(c => c[0]), 'total']
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => i ? '---:' : '---').join('|')}|`
  ]
  for (const k of KINDS) {
    lines.push(`| ${[k, ...COLUMNS.map(c => summary[k][c[0]]), summary[k].total].join(' | ')} |`)
  }
  return lines.join('\n')
}

function oneLine (s, max = 160) {
  s = String(s || '').replace(/\s+/g, ' ').trim()
  return s.length > max ? s.slice(0, max - 1) + '…' : s
}

function describe (r) {
  const why = r.state === 'dependency_fail'
    ? `depends on ${(r.depends_on || []).join(', ')}`
    : oneLine(r.message)
  return `${r.id} [${r.state}] ${oneLine(r.name, 120)}${why ? ' -- ' + why : ''}`
}

// wrap joins words into lines of at most width characters, each indented.
function wrap (words, indent, width = 100) {
  const lines = []
  let cur = ''
  for (const w of words) {
    if (cur && indent.length + cur.length + 1 + w.length > width) {
      lines.push(indent + cur)
      cur = w
    } else {
      cur = cur ? `${cur} ${w}` : w
    }
  }
  if (cur) lines.push(indent + cur)
  return lines.join('\n')
}

function finalLine (summary) {
  const part = k => `${k} ${summary[k].passed} passed ${summary[k].failed} failed`
  return `conformance: ${KINDS.map(part).join('; ')}`
}

// ---------------------------------------------------------------- main

async function runClient (opts, proxyPort, out) {
  const base = `http://127.0.0.1:${proxyPort}`
  const rawFile = path.join(out, 'raw-results.json')
  fs.rmSync(rawFile, { force: true })
  const logFile = path.join(out, 'client.log')
  let proc
  if (opts.suiteCli) {
    const env = { ...process.env, npm_config_base: base, npm_config_id: '', npm_package_config_id: '' }
    // cli.mjs prints the JSON results alone on stdout, errors on stderr.
    proc = start('client', process.execPath, ['--no-warnings', 'cli.mjs'],
      { logFile: path.join(out, 'client.stderr.log'), cwd: suiteDir(), env, captureStdout: true })
    await proc.done
    fs.writeFileSync(logFile, proc.stdout)
    const jsonAt = proc.stdout.indexOf('{')
    if (jsonAt < 0) throw new HarnessError(`suite cli printed no results (code ${proc.code})\n${tail(path.join(out, 'client.stderr.log'))}`)
    fs.writeFileSync(rawFile, proc.stdout.slice(jsonAt))
  } else {
    proc = start('client', process.execPath, [path.join(HERE, 'client.mjs'), base, rawFile, String(opts.requestTimeout * 1000)], { logFile })
    await proc.done
  }
  if (proc.error) throw new HarnessError(`cannot run client: ${proc.error.message}`)
  if (proc.code !== 0 && !fs.existsSync(rawFile)) {
    throw new HarnessError(`client failed (code ${proc.code}, signal ${proc.signal})\n${tail(logFile)}`)
  }
  try {
    return JSON.parse(fs.readFileSync(rawFile, 'utf8'))
  } catch (err) {
    throw new HarnessError(`cannot read client results ${rawFile}: ${err.message}`)
  }
}

async function runOne (opts, bin, extraArgs, out) {
  // Debug one test with the suite's cli.mjs: it dumps the client's requests
  // and responses; origin.mjs (echoed) dumps what the origin saw and sent.
  const { suites } = await loadSuite()
  if (!suites.some(s => s.tests.some(t => t.id === opts.id))) {
    throw new UsageError(`no test with id ${opts.id}`)
  }
  const origin = await startOrigin(out, true)
  const proxy = await startProxy(bin, extraArgs, origin.port, out, false)
  console.log(`# origin 127.0.0.1:${origin.port}, proxy ${bin} ${proxy.args.join(' ')}`)
  const env = {
    ...process.env,
    npm_config_base: `http://127.0.0.1:${proxy.port}`,
    npm_config_id: opts.id,
    npm_package_config_id: opts.id
  }
  const client = start('client', process.execPath, ['--no-warnings', 'cli.mjs'],
    { logFile: path.join(out, 'client.log'), cwd: suiteDir(), env, echo: true })
  await client.done
  await stopAll()
  console.log(`# proxy log: ${path.join(out, 'proxy.log')}`)
  return 0
}

// runSuite runs origin, proxy and client once and classifies the results.
async function runSuite (opts, bin, extraArgs) {
  const started = Date.now()
  const { suites, display } = await loadSuite()
  const origin = await startOrigin(opts.out, false)
  const proxy = await startProxy(bin, extraArgs, origin.port, opts.out, false)
  console.log(`conformance: ${SUITE_NAME}@${SUITE_VERSION}, origin 127.0.0.1:${origin.port}, proxy ${bin} ${proxy.args.join(' ')}`)
  const raw = await runClient(opts, proxy.port, opts.out)
  const proxyDied = proxy.proc.exited
  await stopAll()
  const records = classify(suites, display, raw)
  return {
    date: new Date(started).toISOString(),
    seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
    proxy: { bin, args: proxy.args },
    proxyDied,
    summary: summarize(records),
    records
  }
}

// compareLists compares the required tests that do not pass with the
// known-failures and disputed lists.
function compareLists (records, known, disputed) {
  const knownSet = new Set(known.map(e => e.id))
  const reasons = new Map(disputed.map(e => [e.id, e.reason]))
  const byId = new Map(records.map(r => [r.id, r]))
  const notPassing = records.filter(r => r.kind === 'required' && r.state !== 'pass')
  const passing = id => byId.has(id) && byId.get(id).state === 'pass'
  const notRequired = id => !byId.has(id) || byId.get(id).kind !== 'required'
  return {
    knownSet,
    reasons,
    notPassing,
    disputedNotPassing: notPassing.filter(r => reasons.has(r.id)),
    unexpected: notPassing.filter(r => !knownSet.has(r.id) && !reasons.has(r.id)),
    nowPassing: [...knownSet].filter(passing),
    notRequired: [...knownSet].filter(notRequired),
    disputedPassing: [...reasons.keys()].filter(passing),
    disputedNotRequired: [...reasons.keys()].filter(notRequired)
  }
}

function markdownSummary (run, cmp) {
  return [
    `Results of ${SUITE_NAME}@${SUITE_VERSION} against \`notmod serve\` ` +
      '(check tests: passed = "yes", failed = "no").',
    '',
    markdownTable(run.summary),
    '',
    `Required tests not passing (${cmp.notPassing.length}, of which ${cmp.disputedNotPassing.length} disputed: held wrong, see README § Conformance):`,
    '',
    ...cmp.notPassing.map(r => `- \`${r.id}\` (${r.state}${cmp.reasons.has(r.id) ? ', disputed' : ''}): ${oneLine(r.name, 200)}`)
  ].join('\n') + '\n'
}

// printReport prints the summary table, the required tests that do not pass
// ('!' marks those in neither list) and, in a section of their own, the
// disputed ones that do not pass.
function printReport (opts, run, cmp) {
  const mark = r => cmp.knownSet.has(r.id) ? '' : '!'
  console.log(`\n${run.records.length} tests in ${run.seconds}s (check tests: passed = "yes", failed = "no")\n`)
  console.log(textTable(run.summary))
  if (run.proxyDied) console.log(`\nWARNING: the proxy exited during the run; see ${path.join(opts.out, 'proxy.log')}`)
  const own = cmp.notPassing.filter(r => !cmp.reasons.has(r.id))
  const failed = own.filter(r => r.state === 'fail')
  if (failed.length) {
    console.log(`\nrequired tests failed (${failed.length}; ! = not in the known-failures list):`)
    for (const r of failed) console.log(`  ${mark(r) || ' '} ${describe(r)}`)
  }
  const notJudged = own.filter(r => r.state !== 'fail')
  if (notJudged.length) {
    console.log(`\nrequired tests not judged (${notJudged.length}; ! = not in the known-failures list):`)
    for (const state of ['setup_fail', 'dependency_fail', 'retry', 'harness_fail', 'untested']) {
      const list = notJudged.filter(r => r.state === state)
      if (!list.length) continue
      console.log(`  ${state} (${list.length}):`)
      console.log(wrap(list.map(r => mark(r) + r.id), '    '))
    }
  }
  if (cmp.disputedNotPassing.length) {
    console.log(`\ndisputed: held wrong, see README § Conformance (${cmp.disputedNotPassing.length} required, not passing; listed in ${displayName(opts.disputed)}):`)
    for (const r of cmp.disputedNotPassing) {
      console.log(`    ${r.id} [${r.state}] ${oneLine(cmp.reasons.get(r.id), 120)}`)
    }
  }
  if (opts.verbose) {
    const optimal = run.records.filter(r => r.kind === 'optimal' && r.state !== 'pass')
    console.log(`\noptimal tests not passing (${optimal.length}):`)
    for (const r of optimal) console.log(`    ${describe(r)}`)
  }
}

// gate prints the comparison with the two lists (or rewrites the
// known-failures list) and returns the exit status.
function gate (opts, cmp, lists, records) {
  const knownName = displayName(opts.known)
  const disputedName = displayName(opts.disputed)
  if (opts.updateKnown) {
    writeKnown(opts.known, records, lists.known, cmp.reasons)
    const kept = cmp.notPassing.length - cmp.disputedNotPassing.length
    const removed = cmp.nowPassing.length + cmp.notRequired.length
    console.log(`\nwrote ${knownName}: ${kept} ids (${cmp.unexpected.length} added, ${removed} removed; ${cmp.disputedNotPassing.length} disputed left out)`)
    if (cmp.unexpected.length && lists.known.length) {
      console.log(`  added (the list should only shrink): ${cmp.unexpected.map(r => r.id).join(' ')}`)
    }
    return 0
  }
  if (cmp.nowPassing.length) {
    console.log(`\nnote: ${cmp.nowPassing.length} test(s) listed in ${knownName} pass now; remove them from the list:`)
    console.log(wrap(cmp.nowPassing, '    '))
  }
  if (cmp.notRequired.length) {
    console.log(`\nnote: ${cmp.notRequired.length} id(s) listed in ${knownName} are not required tests of this suite version:`)
    console.log(wrap(cmp.notRequired, '    '))
  }
  if (cmp.disputedPassing.length) {
    console.log(`\nnote: ${cmp.disputedPassing.length} disputed test(s) listed in ${disputedName} pass now; check the reason, and remove them from the list:`)
    console.log(wrap(cmp.disputedPassing, '    '))
  }
  if (cmp.disputedNotRequired.length) {
    console.log(`\nnote: ${cmp.disputedNotRequired.length} id(s) listed in ${disputedName} are not required tests of this suite version:`)
    console.log(wrap(cmp.disputedNotRequired, '    '))
  }
  if (cmp.unexpected.length) {
    console.log(`\nFAIL: ${cmp.unexpected.length} required test(s) not passing and listed in neither ${knownName} nor ${disputedName}:`)
    console.log(wrap(cmp.unexpected.map(r => r.id), '    '))
    console.log('  results.json has each one\'s message; debug one with: scripts/conformance --id TEST_ID')
    return 1
  }
  console.log(`\nok: every required test that does not pass is listed in ${knownName} (${lists.known.length} listed) or ${disputedName} (${lists.disputed.length} listed)`)
  return 0
}

async function main () {
  let opts
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`conformance: ${err.message}\n\n${USAGE}`)
      return 2
    }
    throw err
  }
  if (opts.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const bin = process.env.NOTMOD_BIN
  if (!bin) throw new HarnessError('NOTMOD_BIN is not set (scripts/conformance builds ./cmd/notmod and sets it)')
  const extraArgs = splitWords(process.env.NOTMOD_SERVE_ARGS)
  checkSuite()
  const lists = opts.id ? null : readLists(opts)
  fs.mkdirSync(opts.out, { recursive: true })
  for (const f of ['origin.log', 'proxy.log', 'client.log', 'client.stderr.log']) {
    fs.rmSync(path.join(opts.out, f), { force: true })
  }

  const timer = setTimeout(() => {
    console.error(`conformance: timed out after ${opts.timeout}s; logs in ${opts.out}`)
    exitAfterStop(2)
  }, opts.timeout * 1000)
  try {
    if (opts.id) return await runOne(opts, bin, extraArgs, opts.out)

    const run = await runSuite(opts, bin, extraArgs)
    const cmp = compareLists(run.records, lists.known, lists.disputed)
    const { records, proxyDied, ...meta } = run
    const tests = records.map(r => cmp.reasons.has(r.id)
      ? { ...r, listed: 'disputed', reason: cmp.reasons.get(r.id) }
      : cmp.knownSet.has(r.id) ? { ...r, listed: 'known-failure' } : r)
    fs.writeFileSync(path.join(opts.out, 'results.json'), JSON.stringify({
      suite: `${SUITE_NAME}@${SUITE_VERSION}`, ...meta, tests
    }, null, 2) + '\n')
    const md = markdownSummary(run, cmp)
    fs.writeFileSync(path.join(opts.out, 'summary.md'), md)

    printReport(opts, run, cmp)
    if (opts.markdown) console.log('\n' + md)
    const code = gate(opts, cmp, lists, records)
    console.log(`details: ${path.join(opts.out, 'results.json')}`)
    console.log(finalLine(run.summary))
    return code
  } finally {
    clearTimeout(timer)
    await stopAll()
  }
}

process.on('exit', killAllNow)
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(signal, () => {
    console.error(`conformance: ${signal}, stopping`)
    exitAfterStop(code)
  })
}

main().then(code => {
  process.exitCode = code
}, err => {
  if (err instanceof HarnessError || err instanceof UsageError) {
    console.error(`conformance: ${err.message}`)
  } else {
    console.error(`conformance: harness error: ${err && err.stack ? err.stack : err}`)
  }
  killAllNow()
  process.exitCode = 2
})
