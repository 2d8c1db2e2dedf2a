// The Meta Space DHT protocol as a js-libp2p client speaks it: one request per stream on
// /metaspace/kad/1.0.0, each message a frame `u32 big-endian length || canonical CBOR [type, body]`
// (p2p/framing.py, wire/messages.py). Every wait is bounded by the caller's AbortSignal.

import { randomBytes } from 'node:crypto'
import { byteStream } from '@libp2p/utils'
import { decode, encode } from './cbor.mjs'

export const KAD_PROTOCOL = '/metaspace/kad/1.0.0'
/** Largest reply frame we accept (wire.limits.MAX_FRAME_BYTES). */
export const MAX_FRAME_BYTES = 64 * 1024 + 8 * 1024
/** Records per GET_RECORDS page (wire.limits.MAX_RECORDS_PER_PAGE). */
export const MAX_RECORDS_PER_PAGE = 64

export const MsgType = Object.freeze({
  PING: 0x40,
  PONG: 0x41,
  FIND_NODE: 0x42,
  NODES: 0x43,
  PUT_RECORDS: 0x44,
  PUT_RESULT: 0x45,
  GET_RECORDS: 0x46,
  RECORDS: 0x47,
  ERROR: 0x4f
})

/** A fresh 64-bit request id. */
export function rid () {
  return randomBytes(8).readBigUInt64BE(0)
}

/** One frame: length prefix and body. */
export function frame (body) {
  const out = new Uint8Array(4 + body.length)
  new DataView(out.buffer).setUint32(0, body.length, false)
  out.set(body, 4)
  return out
}

export const ping = () => [MsgType.PING, { rid: rid(), addrs: [] }]
export const findNode = (target) => [MsgType.FIND_NODE, { rid: rid(), target, addrs: [] }]
export const putRecords = (key, records) => [MsgType.PUT_RECORDS, { rid: rid(), key, records, addrs: [] }]
export const getRecords = (key, cursor = null) => [
  MsgType.GET_RECORDS,
  { rid: rid(), key, since: 0, limit: MAX_RECORDS_PER_PAGE, addrs: [], ...(cursor === null ? {} : { cursor }) }
]

export class KadError extends Error {
  constructor (message) {
    super(message)
    this.name = 'KadError'
  }
}

/**
 * Open a stream on /metaspace/kad/1.0.0, send one request, read one reply, close.
 *
 * @param node - a started libp2p node
 * @param target - the peer's Multiaddr (or PeerId once connected)
 * @param message - [type, body] as built by the helpers above
 * @param signal - bounds the whole exchange
 * @returns {Promise<[number, object]>} the decoded reply; its rid is checked against the request's
 */
export async function request (node, target, message, signal) {
  const stream = await node.dialProtocol(target, KAD_PROTOCOL, { signal })
  try {
    const bytes = byteStream(stream)
    await bytes.write(frame(encode(message)), { signal })
    const prefix = (await bytes.read({ bytes: 4, signal })).subarray()
    const length = new DataView(prefix.buffer, prefix.byteOffset, 4).getUint32(0, false)
    if (length > MAX_FRAME_BYTES) throw new KadError(`reply frame of ${length} bytes`)
    const body = length === 0 ? new Uint8Array(0) : (await bytes.read({ bytes: length, signal })).subarray()
    const reply = decode(body)
    if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'number') {
      throw new KadError('a reply is [type, body]')
    }
    if (BigInt(reply[1].rid) !== BigInt(message[1].rid)) throw new KadError('reply rid does not match')
    bytes.unwrap()
    await stream.close({ signal })
    return reply
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
