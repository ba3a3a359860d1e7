/**
 * Types for the one node-forge module roxy loads. node-forge's index pulls in every
 * algorithm it ships (about 10 MB RSS and 80 ms at start-up on Bun 1.4.5); certificates
 * need only its ASN.1 codec, so `der.ts` imports `node-forge/lib/asn1.js` directly.
 */
declare module 'node-forge/lib/asn1.js' {
  import type forge from 'node-forge'

  const asn1: typeof forge.asn1
  export default asn1
}
