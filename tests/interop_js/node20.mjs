// js-libp2p 3.x calls Promise.withResolvers (ES2024), which Node.js has from version 22 on; this
// machine's Node.js is 20. Install the specification's definition (ECMA-262 §27.2.4.8) when it is
// missing. Imported first by peer.mjs, before any libp2p module is evaluated.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers () {
      let resolve, reject
      const promise = new this((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    }
  })
}
