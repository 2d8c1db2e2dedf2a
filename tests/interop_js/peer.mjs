#!/usr/bin/env node
// A js-libp2p peer that exercises a Meta Space node from outside. Each command prints one JSON line.
//
//   node peer.mjs probe MULTIADDR [--timeout S]
//       TCP + Noise + yamux with a fresh identity: identify, libp2p ping, then PING, FIND_NODE,
//       PUT_RECORDS and GET_RECORDS on /metaspace/kad/1.0.0 (records from --records FILE, optional).
//   node peer.mjs plaintext MULTIADDR [--timeout S]
//       a peer that only offers /plaintext/2.0.0 tries to connect; reports whether it was refused.
//   node peer.mjs churn MULTIADDR --seconds S [--max-connections N] [--rpcs-per-connection R]
//                      [--records FILE] [--timeout S] [--listen]
//       connect with a fresh identity, R RPCs (PING / FIND_NODE / PUT_RECORDS / GET_RECORDS), hang up,
//       again, until S seconds, N connections or SIGTERM; prints a progress line every 10 s, then the
//       counts and every RPC latency (ms). --listen: each identity also listens on 127.0.0.1 (port 0)
//       and so announces a listen address through identify, as a full peer does.
//
// --records FILE: one JSON line per record, {"key": hex, "record": hex} (signed by the Python side:
// the js peer only carries them). Exit status: 0 when the command ran (its JSON says what happened),
// 2 on bad usage, 1 on an unexpected failure (message on stderr).

import './node20.mjs'
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import * as kad from './kad.mjs'

const PACKAGES = ['libp2p', '@libp2p/tcp', '@chainsafe/libp2p-noise', '@chainsafe/libp2p-yamux',
  '@libp2p/identify', '@libp2p/ping', '@libp2p/plaintext']

function versions () {
  const out = { node: process.versions.node }
  for (const name of PACKAGES) {
    const url = new URL(`node_modules/${name}/package.json`, import.meta.url)
    out[name] = JSON.parse(readFileSync(url, 'utf8')).version
  }
  return out
}

function usage (message) {
  process.stderr.write(`peer.mjs: ${message}\n`)
  process.exit(2)
}

function parseArgs (argv) {
  const [command, addr, ...rest] = argv
  if (!command || !addr) usage('usage: peer.mjs probe|plaintext|churn MULTIADDR [options]')
  const opts = { timeout: 10, seconds: 10, maxConnections: Infinity, rpcsPerConnection: 4, records: null, listen: false }
  const names = { '--timeout': 'timeout', '--seconds': 'seconds', '--max-connections': 'maxConnections',
    '--rpcs-per-connection': 'rpcsPerConnection', '--records': 'records' }
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] === '--listen') { // a flag: no value
      opts.listen = true
      i -= 1
      continue
    }
    const key = names[rest[i]]
    if (!key || rest[i + 1] === undefined) usage(`unknown or incomplete option ${rest[i]}`)
    opts[key] = key === 'records' ? rest[i + 1] : Number(rest[i + 1])
    if (key !== 'records' && !(opts[key] > 0)) usage(`${rest[i]} wants a positive number`)
  }
  return { command, addr, opts }
}

function loadRecords (path) {
  if (path === null) return []
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => {
    const { key, record } = JSON.parse(line)
    return { key: Buffer.from(key, 'hex'), record: Buffer.from(record, 'hex') }
  })
}

/** A fresh node (new ed25519 identity), dial-only. */
async function newNode ({ plaintextOnly = false, listen = false } = {}) {
  return createLibp2p({
    // A listening peer announces its address through identify (and the node records it).
    addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp()],
    connectionEncrypters: [plaintextOnly ? plaintext() : noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() }
  })
}

/** Count an error by its text; the first MAX_ERRORS distinct texts are kept. */
const MAX_ERRORS = 20
/** churn prints a progress line ({"progress": {...counts}}) this often. */
const PROGRESS_MS = 10_000
function countError (errors, text) {
  if (text in errors || Object.keys(errors).length < MAX_ERRORS) errors[text] = (errors[text] ?? 0) + 1
}

const errText = (err) => `${err?.name ?? 'Error'}: ${err?.message ?? String(err)}`.slice(0, 300)
const TYPE_NAMES = Object.fromEntries(Object.entries(kad.MsgType).map(([k, v]) => [v, k]))

async function timed (fn) {
  const start = performance.now()
  const value = await fn()
  return [value, performance.now() - start]
}

async function probe (addr, opts) {
  const ma = multiaddr(addr)
  const node = await newNode()
  const signal = () => AbortSignal.timeout(opts.timeout * 1000)
  const out = { command: 'probe', versions: versions(), our_peer_id: node.peerId.toString() }
  // libp2p runs identify by itself once a connection is up (a second, explicit run would be refused:
  // one outbound identify stream per connection); wait for its result.
  const identified = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no identify result')), opts.timeout * 1000)
    node.addEventListener('peer:identify', (evt) => {
      clearTimeout(timer)
      resolve(evt.detail)
    }, { once: true })
  })
  identified.catch(() => {}) // a dial failure is reported instead
  try {
    const conn = await node.dial(ma, { signal: signal() })
    out.connected = true
    out.remote_peer_id = conn.remotePeer.toString()
    out.encryption = conn.encryption
    out.multiplexer = conn.multiplexer
    const id = await identified
    out.agent_version = id.agentVersion ?? null
    out.protocol_version = id.protocolVersion ?? null
    out.protocols = [...(id.protocols ?? [])].sort()
    out.listen_addrs = (id.listenAddrs ?? []).map((a) => a.toString())
    out.ping_ms = await node.services.ping.ping(ma, { signal: signal() })
    const kadOut = {}
    const [pong, pingMs] = await timed(() => kad.request(node, ma, kad.ping(), signal()))
    kadOut.ping = { reply: TYPE_NAMES[pong[0]], ms: pingMs }
    const target = randomBytes(32)
    const [nodes, findMs] = await timed(() => kad.request(node, ma, kad.findNode(target), signal()))
    kadOut.find_node = { reply: TYPE_NAMES[nodes[0]], ms: findMs, peers: nodes[1].peers?.length ?? null }
    const records = loadRecords(opts.records)
    if (records.length > 0) {
      const { key } = records[0]
      const same = records.filter((r) => Buffer.compare(r.key, key) === 0).map((r) => r.record)
      const [put] = await timed(() => kad.request(node, ma, kad.putRecords(key, same), signal()))
      kadOut.put = { reply: TYPE_NAMES[put[0]], statuses: put[1].statuses ?? null }
      const [got] = await timed(() => kad.request(node, ma, kad.getRecords(key), signal()))
      const returned = (got[1].records ?? []).map((r) => Buffer.from(r).toString('hex'))
      kadOut.get = {
        reply: TYPE_NAMES[got[0]],
        records: returned.length,
        all_found: same.every((r) => returned.includes(Buffer.from(r).toString('hex')))
      }
    }
    out.kad = kadOut
    out.ok = true
  } catch (err) {
    out.ok = false
    out.error = errText(err)
  } finally {
    await node.stop()
  }
  return out
}

async function plaintextOnly (addr, opts) {
  const node = await newNode({ plaintextOnly: true })
  const out = { command: 'plaintext', versions: versions() }
  try {
    const conn = await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(opts.timeout * 1000) })
    out.refused = false
    out.encryption = conn.encryption
  } catch (err) {
    out.refused = true
    out.error = errText(err)
  } finally {
    await node.stop()
  }
  return out
}

async function churn (addr, opts) {
  const ma = multiaddr(addr)
  const records = loadRecords(opts.records)
  const out = {
    command: 'churn', versions: versions(), connections: 0, refused: 0, rpcs: 0, rpc_failures: 0,
    replies: {}, errors: {}, latencies_ms: []
  }
  const deadline = performance.now() + opts.seconds * 1000
  let stopping = false
  process.on('SIGTERM', () => { stopping = true }) // finish the current connection, then report
  const progress = setInterval(() => {
    const { connections, refused, rpcs, rpc_failures: rpcFailures } = out
    process.stdout.write(JSON.stringify({ progress: { connections, refused, rpcs, rpc_failures: rpcFailures } }) + '\n')
  }, PROGRESS_MS)
  let i = 0
  while (!stopping && performance.now() < deadline && out.connections + out.refused < opts.maxConnections) {
    const node = await newNode({ listen: opts.listen })
    try {
      try {
        await node.dial(ma, { signal: AbortSignal.timeout(opts.timeout * 1000) })
        out.connections += 1
      } catch (err) {
        out.refused += 1
        countError(out.errors, `dial: ${errText(err)}`)
        continue
      }
      for (let r = 0; r < opts.rpcsPerConnection; r++, i++) {
        const rec = records.length > 0 ? records[i % records.length] : null
        let message
        switch (rec === null ? i % 2 : i % 4) {
          case 0: message = kad.ping(); break
          case 1: message = kad.findNode(randomBytes(32)); break
          case 2: message = kad.putRecords(rec.key, [rec.record]); break
          default: message = kad.getRecords(rec.key)
        }
        try {
          const [reply, ms] = await timed(() =>
            kad.request(node, ma, message, AbortSignal.timeout(opts.timeout * 1000)))
          const name = TYPE_NAMES[reply[0]] ?? String(reply[0])
          out.replies[name] = (out.replies[name] ?? 0) + 1
          if (reply[0] === kad.MsgType.ERROR) {
            out.rpc_failures += 1
            countError(out.errors, `ERROR reply: ${reply[1].code} ${reply[1].detail}`)
          } else {
            out.rpcs += 1
            out.latencies_ms.push(Math.round(ms * 100) / 100)
          }
        } catch (err) {
          out.rpc_failures += 1
          countError(out.errors, `rpc: ${errText(err)}`)
        }
      }
    } finally {
      await node.stop()
    }
  }
  clearInterval(progress)
  return out
}

const { command, addr, opts } = parseArgs(process.argv.slice(2))
const commands = { probe, plaintext: plaintextOnly, churn }
if (!commands[command]) usage(`unknown command ${command}`)
try {
  const result = await commands[command](addr, opts)
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(0)
} catch (err) {
  process.stderr.write(`peer.mjs ${command}: ${err?.stack ?? err}\n`)
  process.exit(1)
}
