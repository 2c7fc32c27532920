// The test suite's client, run against a cache under test.
//
// This does what the suite's cli.mjs does for a full run (the test list of
// tests/index.mjs plus the Surrogate-Control suite, run by client/runner.mjs
// with node-fetch, not as a browser cache) with two differences:
//   - every request carries a timeout, so a cache that never answers one
//     request fails that test instead of hanging the whole run;
//   - the results (the object getResults() returns: test id -> true, or
//     [errorName, message]) are written to a file, not to stdout.
//
// Usage: node client.mjs BASE_URL RESULTS_FILE [REQUEST_TIMEOUT_MS]
//   BASE_URL has no trailing slash, e.g. http://127.0.0.1:41234

import fs from 'node:fs'
import process from 'node:process'
import { createRequire } from 'node:module'

import { runTests, getResults } from 'http-cache-tests/client/runner.mjs'
import tests from 'http-cache-tests/tests/index.mjs'
import surrogate from 'http-cache-tests/tests/surrogate-control.mjs'

// node-fetch as the suite itself resolves it.
const requireFromSuite = createRequire(import.meta.resolve('http-cache-tests/cli.mjs'))
const nodeFetch = requireFromSuite('node-fetch')

const [base, resultsFile, timeoutArg] = process.argv.slice(2)
if (!base || !resultsFile) {
  console.error('usage: node client.mjs BASE_URL RESULTS_FILE [REQUEST_TIMEOUT_MS]')
  process.exit(2)
}
const requestTimeout = Number(timeoutArg || 30000)

function fetchWithTimeout (url, init) {
  return nodeFetch(url, { ...init, timeout: requestTimeout })
}

tests.push(surrogate)

runTests(tests, fetchWithTimeout, false, base.replace(/\/+$/, ''))
  .then(() => {
    fs.writeFileSync(resultsFile, JSON.stringify(getResults(), null, 2) + '\n')
  })
  .catch(err => {
    console.error(`client: ${err && err.stack ? err.stack : err}`)
    process.exit(2)
  })
