/**
 * Bun 1.4.5 accepts `tls: { secureContext }` in `Bun.connect`, `Bun.listen` and
 * `socket.upgradeTLS`, where the value is the native handle inside a node:tls
 * SecureContext (its `.context`), not the wrapper: passing the wrapper throws
 * `The "secureContext" argument must be of type SecureContext`. bun-types does not
 * declare the option. One context shared by many sockets saves parsing certificates
 * and keys per handshake, and the memory of an SSL_CTX per socket (docs/tls.md).
 */
import { createSecureContext } from 'node:tls'
import type { SecureContextOptions } from 'node:tls'

/** The native context handle, opaque to roxy. */
export type NativeSecureContext = { readonly brand: 'NativeSecureContext' }

export function createNativeSecureContext(options: SecureContextOptions): NativeSecureContext {
  return (createSecureContext(options) as unknown as { context: NativeSecureContext }).context
}
