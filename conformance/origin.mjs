// The test suite's origin server, bound to the loopback interface.
//
// The suite's own server/server.mjs listens on every interface and on a port
// taken from npm config variables. This file wires the very same request
// handlers (config, test, state, file) into an http.Server that listens on
// 127.0.0.1 and an ephemeral port, then prints one line
//
//   origin listening 127.0.0.1:PORT
//
// on stdout so that the harness learns the port. Everything the handlers log
// afterwards ("SERVER WARNING ...", request dumps) follows on stdout.
//
// Usage: node origin.mjs [HOST]   (HOST defaults to 127.0.0.1)

import http from 'node:http'
import process from 'node:process'

import handleConfig from 'http-cache-tests/server/handle-config.mjs'
import handleFile from 'http-cache-tests/server/handle-file.mjs'
import handleState from 'http-cache-tests/server/handle-state.mjs'
import handleTest from 'http-cache-tests/server/handle-test.mjs'

const host = process.argv[2] || '127.0.0.1'

// dispatch routes on the first path segment, as the suite's server does:
// /config/UUID, /test/UUID[...], /state/UUID, anything else is a file.
function dispatch (request, response) {
  const url = new URL(request.url, `http://${host}/`)
  const segments = url.pathname.split('/')
  segments.shift()
  const first = segments.shift()
  switch (first) {
    case 'config':
      handleConfig(segments, request, response)
      break
    case 'test':
      handleTest(segments, request, response)
      break
    case 'state':
      handleState(segments, request, response)
      break
    default:
      handleFile(url, request, response)
  }
}

const server = http.createServer(dispatch)
server.on('error', err => {
  console.error(`origin: ${err.message}`)
  process.exit(2)
})
server.listen(0, host, () => {
  const { address, port } = server.address()
  console.log(`origin listening ${address}:${port}`)
})

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => process.exit(0))
}
