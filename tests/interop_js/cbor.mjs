// Canonical CBOR (RFC 8949 §4.2), the subset Meta Space messages use: unsigned and negative ints
// (64-bit heads), byte strings, text strings, arrays, text-keyed maps, true, false, null.
//
// Written from the specification, independently of wire/cbor.py, so that the interop test checks our
// Python codec against a second implementation. Map keys are sorted by their encoded bytes, shorter
// first (what wire/cbor.py requires); heads are always in their shortest form.

const MAX_DEPTH = 16

function head (major, value) {
  const v = BigInt(value)
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`CBOR argument out of range: ${value}`)
  const m = major << 5
  if (v < 24n) return Uint8Array.of(m | Number(v))
  if (v < 0x100n) return Uint8Array.of(m | 24, Number(v))
  if (v < 0x10000n) return Uint8Array.of(m | 25, Number(v >> 8n), Number(v & 0xffn))
  const size = v < 0x100000000n ? 4 : 8
  const out = new Uint8Array(1 + size)
  out[0] = m | (size === 4 ? 26 : 27)
  let rest = v
  for (let i = size; i >= 1; i--) {
    out[i] = Number(rest & 0xffn)
    rest >>= 8n
  }
  return out
}

function concat (parts) {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

function compareBytes (a, b) {
  if (a.length !== b.length) return a.length - b.length
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i]
  }
  return 0
}

/** Encode a value: number (integer) or bigint, Uint8Array, string, array, plain object, boolean, null. */
export function encode (value) {
  if (value === null) return Uint8Array.of(0xf6)
  if (value === false) return Uint8Array.of(0xf4)
  if (value === true) return Uint8Array.of(0xf5)
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`)
    const v = BigInt(value)
    return v >= 0n ? head(0, v) : head(1, -1n - v)
  }
  if (value instanceof Uint8Array) return concat([head(2, value.length), value])
  if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value)
    return concat([head(3, bytes.length), bytes])
  }
  if (Array.isArray(value)) return concat([head(4, value.length), ...value.map(encode)])
  if (typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [encode(k), encode(v)])
      .sort((a, b) => compareBytes(a[0], b[0]))
    return concat([head(5, entries.length), ...entries.flat()])
  }
  throw new TypeError(`CBOR type not supported: ${typeof value}`)
}

/** Decode exactly one canonical item filling all of `data`; throws Error on anything else. */
export function decode (data) {
  let pos = 0
  const need = (n) => {
    if (pos + n > data.length) throw new Error('truncated CBOR')
  }
  const item = (depth) => {
    need(1)
    const ib = data[pos++]
    const major = ib >> 5
    let arg = BigInt(ib & 0x1f)
    if (arg >= 24n) {
      if (major === 7) throw new Error('CBOR floats and simple values are not allowed')
      const size = { 24: 1, 25: 2, 26: 4, 27: 8 }[Number(arg)]
      if (size === undefined) throw new Error('indefinite length or reserved CBOR head')
      need(size)
      arg = 0n
      for (let i = 0; i < size; i++) arg = (arg << 8n) | BigInt(data[pos++])
      const smallest = { 1: 24n, 2: 0x100n, 4: 0x10000n, 8: 0x100000000n }[size]
      if (arg < smallest) throw new Error('CBOR head not in its shortest form')
    }
    const small = (v) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v)
    switch (major) {
      case 0: return small(arg)
      case 1: return arg + 1n <= BigInt(Number.MAX_SAFE_INTEGER) ? -Number(arg) - 1 : -1n - arg
      case 2:
      case 3: {
        const n = Number(arg)
        need(n)
        const bytes = data.subarray(pos, pos + n)
        pos += n
        return major === 2 ? Uint8Array.from(bytes) : new TextDecoder('utf-8', { fatal: true }).decode(bytes)
      }
      case 7:
        if (ib === 0xf4) return false
        if (ib === 0xf5) return true
        if (ib === 0xf6) return null
        throw new Error('CBOR simple value not allowed')
      case 6: throw new Error('CBOR tags are not allowed')
    }
    if (depth >= MAX_DEPTH) throw new Error('CBOR nested too deeply')
    const count = Number(arg)
    if (count > data.length - pos) throw new Error('truncated CBOR')
    if (major === 4) {
      const out = []
      for (let i = 0; i < count; i++) out.push(item(depth + 1))
      return out
    }
    const out = {}
    let prev = null
    for (let i = 0; i < count; i++) {
      const start = pos
      if (pos >= data.length || data[pos] >> 5 !== 3) throw new Error('CBOR map keys must be text')
      const key = item(depth + 1)
      const raw = data.subarray(start, pos)
      if (prev !== null && compareBytes(prev, raw) >= 0) throw new Error('CBOR map keys unsorted or duplicated')
      prev = raw
      out[key] = item(depth + 1)
    }
    return out
  }
  const value = item(0)
  if (pos !== data.length) throw new Error('trailing bytes after the CBOR item')
  return value
}
