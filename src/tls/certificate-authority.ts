/**
 * The MITM certificate authority: loaded from PEM files (`tls.ca_cert`/`tls.ca_key`),
 * made fresh at start-up when neither is configured (ephemeral), or written once by
 * `roxy ca init --out DIR`.
 *
 * An ephemeral CA's key lives only in memory; its certificate is written to a file so
 * users can trust it (the caller logs the path and serves it at `/ca.pem`). A restart
 * makes a new one, which clients must trust again: configure files for anything lasting.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RoxyError } from '../errors.ts'
import { decodeDer, getBytes, getChildren, getOid, isContextTag } from './der.ts'
import type { Asn1 } from './der.ts'
import {
  OID,
  buildBasicConstraints,
  buildCertificate,
  buildKeyUsage,
  buildName,
  buildSubjectKeyIdentifier,
  computeKeyIdentifier,
  createSerial,
  createSigner,
  encodePem,
  encodePublicKey,
} from './x509-builder.ts'
import type { CertificateSigner } from './x509-builder.ts'

/** A CA ready to sign leaves. */
export interface CertificateAuthority {
  /** The CA certificate, PEM: appended to every leaf chain and served at `/ca.pem`. */
  certPem: string
  /** The file holding `certPem`: the configured one, or where the ephemeral CA was written. */
  certPath: string
  signer: CertificateSigner
  /** The CA's subject Name, copied byte for byte as the issuer of every leaf. */
  subject: Asn1
  /** The CA's subjectKeyIdentifier, used as every leaf's authorityKeyIdentifier. */
  keyId: Buffer
  /** Leaves never outlive their CA. */
  notAfter: Date
  /** SHA-256 fingerprint, `AB:CD:...`, for the start-up log line. */
  fingerprint: string
  ephemeral: boolean
}

export interface LoadedCa {
  ca: CertificateAuthority
  /** Problems worth a start-up warning (key readable by others, not yet valid). */
  warnings: string[]
}

/** Validity of CAs roxy makes: 10 years, backdated a day like leaves. */
export const CA_VALIDITY_DAYS = 3650
const DAY_MS = 86_400_000

/**
 * Load a CA from PEM files. RSA and EC (P-256/P-384/P-521) keys are accepted; the key
 * must not be passphrase-protected. Throws `ROXY_E_TLS_CA` naming the file at fault.
 */
export function loadCa(certPath: string, keyPath: string, now = Date.now()): LoadedCa {
  const cert = readCertificate(certPath)
  const key = readPrivateKey(keyPath)
  if (!cert.checkPrivateKey(key)) {
    throw caError(`${keyPath} is not the private key of the CA certificate ${certPath}`)
  }
  if (!cert.ca) {
    throw caError(`${certPath} is not a CA certificate (basicConstraints CA:TRUE is missing)`)
  }
  if (cert.validToDate.getTime() <= now) {
    throw caError(`${certPath} expired on ${cert.validToDate.toISOString()}; make a new CA`)
  }
  const signer = createSigner(key)
  if (!signer) {
    const type = key.asymmetricKeyDetails?.namedCurve ?? key.asymmetricKeyType
    throw caError(`${keyPath}: unsupported key type ${type}; use RSA or EC P-256/P-384/P-521`)
  }
  const warnings = collectWarnings(cert, keyPath, now)
  return { ca: describeCa(cert, certPath, signer, false), warnings }
}

/**
 * Make an ephemeral CA (EC P-256) and write its certificate to `dir`, or to a fresh
 * private temp directory when omitted. The key is never written.
 */
export function createEphemeralCa(
  options: { dir?: string; now?: number } = {},
): CertificateAuthority {
  const now = options.now ?? Date.now()
  const { certPem, privateKey } = generateCa(now, 'roxy ephemeral CA')
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'roxy-ca-'))
  mkdirSync(dir, { recursive: true })
  const certPath = join(dir, 'roxy-ca.pem')
  writeFileAtomic(certPath, certPem, 0o644)
  const signer = createSigner(privateKey) as CertificateSigner
  return describeCa(new X509Certificate(certPem), certPath, signer, true)
}

/**
 * `roxy ca init --out DIR [--force]`: write `ca.key` (mode 0600) and `ca.crt`.
 * Refuses (`ROXY_E_TLS_CA_EXISTS`) to replace either file unless `force`.
 */
export function initCa(
  outDir: string,
  options: { force?: boolean; now?: number } = {},
): { certPath: string; keyPath: string; fingerprint: string } {
  const certPath = join(outDir, 'ca.crt')
  const keyPath = join(outDir, 'ca.key')
  for (const path of [keyPath, certPath]) {
    if (!options.force && existsSync(path)) {
      throw new RoxyError(
        'ROXY_E_TLS_CA_EXISTS',
        `${path} already exists; pass --force to replace it`,
      )
    }
  }
  const { certPem, privateKey } = generateCa(options.now ?? Date.now(), 'roxy CA')
  mkdirSync(outDir, { recursive: true })
  writeFileAtomic(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600)
  writeFileAtomic(certPath, certPem, 0o644)
  return { certPath, keyPath, fingerprint: new X509Certificate(certPem).fingerprint256 }
}

/** A self-signed EC P-256 CA certificate; the common name carries a random tag to tell CAs apart. */
function generateCa(now: number, label: string): { certPem: string; privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const tag = randomBytes(4).toString('hex')
  const name = buildName([
    [OID.organizationName, 'roxy'],
    [OID.commonName, `${label} ${new Date(now).toISOString().slice(0, 10)} ${tag}`],
  ])
  const spki = encodePublicKey(publicKey)
  const der = buildCertificate(
    {
      serial: createSerial(randomBytes),
      issuer: name,
      subject: name,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
      publicKey: spki,
      extensions: [
        buildBasicConstraints(true, 0),
        buildKeyUsage(['digitalSignature', 'keyCertSign', 'cRLSign']),
        buildSubjectKeyIdentifier(computeKeyIdentifier(spki)),
      ],
    },
    createSigner(privateKey) as CertificateSigner,
  )
  return { certPem: encodePem(der, 'CERTIFICATE'), privateKey }
}

function describeCa(
  cert: X509Certificate,
  certPath: string,
  signer: CertificateSigner,
  ephemeral: boolean,
): CertificateAuthority {
  const fields = readTbsFields(cert.raw)
  return {
    certPem: cert.toString(),
    certPath,
    signer,
    subject: fields.subject,
    keyId: fields.keyId ?? computeKeyIdentifier(fields.publicKey),
    notAfter: cert.validToDate,
    fingerprint: cert.fingerprint256,
    ephemeral,
  }
}

/** Subject, public key and subjectKeyIdentifier out of a certificate's TBSCertificate. */
function readTbsFields(der: Uint8Array): { subject: Asn1; publicKey: Asn1; keyId?: Buffer } {
  const tbs = getChildren(getChildren(decodeDer(der))[0])
  const offset = isContextTag(tbs[0], 0) ? 1 : 0 // [0] version is absent in v1 certificates
  const subject = tbs[offset + 4]
  const publicKey = tbs[offset + 5]
  const extensions = tbs.find((field) => isContextTag(field, 3))
  for (const extension of extensions ? getChildren(getChildren(extensions)[0]) : []) {
    const parts = getChildren(extension)
    if (getOid(parts[0]) === OID.subjectKeyIdentifier) {
      const keyId = getBytes(decodeDer(getBytes(parts[parts.length - 1])))
      return { subject, publicKey, keyId }
    }
  }
  return { subject, publicKey }
}

function readCertificate(path: string): X509Certificate {
  const text = readText(path, 'CA certificate')
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw caError(`${path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`)
  }
  try {
    return new X509Certificate(text)
  } catch (err) {
    throw caError(`${path}: the certificate does not parse`, err)
  }
}

function readPrivateKey(path: string): KeyObject {
  const text = readText(path, 'CA key')
  try {
    return createPrivateKey(text)
  } catch (err) {
    const hint = text.includes('ENCRYPTED') ? ' (passphrase-protected keys are not supported)' : ''
    throw caError(`${path} holds no usable PEM private key${hint}`, err)
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw caError(`cannot read ${what} file ${path}`, err)
  }
}

function collectWarnings(cert: X509Certificate, keyPath: string, now: number): string[] {
  const warnings: string[] = []
  const mode = statSync(keyPath).mode & 0o777
  if (mode & 0o044) {
    const octal = mode.toString(8).padStart(4, '0')
    warnings.push(`CA key ${keyPath} is readable by group or others (mode ${octal}); chmod 600 it`)
  }
  if (cert.validFromDate.getTime() > now) {
    warnings.push(`CA certificate is not valid before ${cert.validFromDate.toISOString()}`)
  }
  return warnings
}

/** Write through a temp file and rename, so a crash never leaves half a key, and set the mode. */
function writeFileAtomic(path: string, text: string, mode: number): void {
  const temp = `${path}.${process.pid}.tmp`
  writeFileSync(temp, text, { mode })
  chmodSync(temp, mode) // `mode` above only applies when the file is created
  renameSync(temp, path)
}

function caError(message: string, cause?: unknown): RoxyError {
  return new RoxyError('ROXY_E_TLS_CA', message, { cause })
}
