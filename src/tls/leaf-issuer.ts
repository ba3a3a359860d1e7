/**
 * Leaf certificates for intercepted hosts, signed by the MITM CA.
 *
 * Threat model of the shared leaf key. One EC P-256 key pair is made at start-up, kept
 * only in memory, and used by every leaf. It is never the CA key: the leaf key takes
 * part in every client handshake, while the CA key only ever signs certificates here.
 * Whoever reads the leaf key out of this process can impersonate, to clients trusting
 * the CA, the hosts whose leaves they have seen, until those expire (LEAF_VALIDITY_DAYS),
 * which is why leaves are short-lived; they could read the CA key from the same memory,
 * which is worse, so a key per host would add cost (key generation, memory per cached
 * entry) without narrowing that exposure. A restart replaces the leaf key.
 *
 * Leaf shape (RFC 5280): v3, random positive 126-bit serial, subject CN = host (when it
 * fits the 64-character limit), subjectAltName dNSName or iPAddress, notBefore one day
 * back for clients with slow clocks, basicConstraints CA:FALSE, keyUsage
 * digitalSignature, extKeyUsage serverAuth, authority and subject key identifiers.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { RoxyError } from '../errors.ts'
import type { CertificateAuthority } from './certificate-authority.ts'
import type { Asn1 } from './der.ts'
import { parseIpAddress } from './parse-ip-address.ts'
import {
  OID,
  buildAuthorityKeyIdentifier,
  buildBasicConstraints,
  buildCertificate,
  buildCertificateAsync,
  buildExtKeyUsage,
  buildKeyUsage,
  buildName,
  buildSubjectAltName,
  buildSubjectKeyIdentifier,
  computeKeyIdentifier,
  createSerial,
  encodePem,
  encodePublicKey,
} from './x509-builder.ts'
import type { AltName, CertificateFields } from './x509-builder.ts'

/**
 * What a TLS server needs to present a leaf, as PEM. No native context is kept per leaf:
 * Bun 1.4.5 handshakes as fast, in the same memory, from these strings as from a
 * prebuilt context, and a context would add about 11 KB per cached host (docs/tls.md).
 */
export interface LeafCredentials {
  host: string
  /** The leaf certificate followed by the CA certificate, PEM. */
  cert: string
  /** The shared leaf private key, PEM: the same string for every leaf. */
  key: string
  /** Expiry of the leaf, ms since the epoch. */
  notAfter: number
}

export interface LeafIssuerOptions {
  /** @default 30 (LEAF_VALIDITY_DAYS) */
  validityDays?: number
  /** Injectable clock, ms since the epoch. */
  now?: () => number
}

/**
 * 30 days: far below the 398-day ceiling browsers enforce (and the 47 days the CA/B Forum
 * plans for 2029), far above the 24 h a leaf stays cached, and it bounds how long a
 * leaked leaf key stays useful.
 */
export const LEAF_VALIDITY_DAYS = 30
const DAY_MS = 86_400_000
/** RFC 5280 ub-common-name. Longer names go in the subjectAltName only. */
const MAX_COMMON_NAME = 64
const MAX_DNS_NAME = 253
/** Letters, digits, `-` and `_` (seen in real hostnames), dot-separated labels of 1..63. */
const DNS_NAME = /^(?!-)[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*$/

export class LeafIssuer {
  /** The shared leaf private key, PEM (PKCS#8). */
  readonly keyPem: string
  #ca: CertificateAuthority
  #publicKey: Asn1
  #fixedExtensions: Asn1[]
  #validityMs: number
  #now: () => number

  constructor(ca: CertificateAuthority, options: LeafIssuerOptions = {}) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    this.keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    this.#ca = ca
    this.#publicKey = encodePublicKey(publicKey)
    this.#validityMs = (options.validityDays ?? LEAF_VALIDITY_DAYS) * DAY_MS
    this.#now = options.now ?? Date.now
    // The same for every leaf: encoded once.
    this.#fixedExtensions = [
      buildBasicConstraints(false),
      buildKeyUsage(['digitalSignature']),
      buildExtKeyUsage([OID.serverAuth]),
      buildSubjectKeyIdentifier(computeKeyIdentifier(this.#publicKey)),
      buildAuthorityKeyIdentifier(ca.keyId),
    ]
  }

  /** Mint a leaf for `host` on the calling thread (about 0.1 ms with an EC CA). */
  issue(host: string): LeafCredentials {
    const fields = this.#buildFields(host)
    return this.#toCredentials(host, buildCertificate(fields, this.#ca.signer), fields.notAfter)
  }

  /**
   * Mint a leaf without holding the event loop for long: an RSA CA signs off-thread
   * (about 1 ms of work), an EC CA on the thread (about 25 µs, less than the hop to the
   * thread pool costs, measured in bench/tls-issue.ts).
   */
  async issueAsync(host: string): Promise<LeafCredentials> {
    if (this.#ca.signer.key.asymmetricKeyType !== 'rsa') {
      return this.issue(host)
    }
    const fields = this.#buildFields(host)
    const der = await buildCertificateAsync(fields, this.#ca.signer)
    return this.#toCredentials(host, der, fields.notAfter)
  }

  #buildFields(host: string): CertificateFields {
    const { commonName, altName } = describeHost(host)
    const now = this.#now()
    const notAfter = Math.min(now + this.#validityMs, this.#ca.notAfter.getTime())
    const subject = buildName(commonName ? [[OID.commonName, commonName]] : [])
    return {
      serial: createSerial(randomBytes),
      issuer: this.#ca.subject,
      subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(notAfter),
      publicKey: this.#publicKey,
      extensions: [buildSubjectAltName([altName], !commonName), ...this.#fixedExtensions],
    }
  }

  #toCredentials(host: string, der: Buffer, notAfter: Date): LeafCredentials {
    const cert = encodePem(der, 'CERTIFICATE') + this.#ca.certPem
    return { host, cert, key: this.keyPem, notAfter: notAfter.getTime() }
  }
}

/** Subject CN and subjectAltName for a host; throws `ROXY_E_TLS_HOST` for anything else. */
export function describeHost(host: string): { commonName?: string; altName: AltName } {
  const ip = parseIpAddress(host)
  if (ip) {
    return { commonName: host, altName: { ip } }
  }
  const name = host.toLowerCase().replace(/\.$/, '')
  if (name.length > MAX_DNS_NAME || !DNS_NAME.test(name)) {
    throw new RoxyError(
      'ROXY_E_TLS_HOST',
      `cannot make a certificate for host ${JSON.stringify(host)}`,
    )
  }
  const commonName = name.length <= MAX_COMMON_NAME ? name : undefined
  return { commonName, altName: { dns: name } }
}
