/**
 * Small constructors for DER values, on top of node-forge's ASN.1 codec.
 *
 * node-forge represents byte strings as "binary" JS strings (one char per byte, 0..255);
 * these helpers take and return Buffers so the rest of src/tls never sees that detail.
 * Encodings follow X.690 DER; certificate shapes follow RFC 5280.
 */
import type forge from 'node-forge'
import asn1 from 'node-forge/lib/asn1.js'

export type Asn1 = forge.asn1.Asn1

const { Class, Type } = asn1

/** The earliest and latest instants UTCTime may carry (RFC 5280 §4.1.2.5: 1950..2049). */
const UTC_TIME_END = Date.UTC(2050, 0, 1)

export function toBinary(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

export function encodeDer(value: Asn1): Buffer {
  return Buffer.from(asn1.toDer(value).getBytes(), 'latin1')
}

/** Parse DER without re-interpreting BIT STRING contents, so re-encoding is byte-exact. */
export function decodeDer(der: Uint8Array): Asn1 {
  const options = { strict: true, decodeBitStrings: false }
  return asn1.fromDer(toBinary(der), options as unknown as boolean)
}

export function createSequence(items: Asn1[]): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items)
}

export function createSet(items: Asn1[]): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.SET, true, items)
}

export function createOid(oid: string): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(oid).getBytes())
}

/** An INTEGER from its big-endian two's-complement bytes (the caller keeps them minimal). */
export function createInteger(bytes: Uint8Array): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, toBinary(bytes))
}

export function createSmallInteger(value: number): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, asn1.integerToDer(value).getBytes())
}

export function createBoolean(value: boolean): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, value ? '\xff' : '\x00')
}

export function createNull(): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.NULL, false, '')
}

export function createOctetString(bytes: Uint8Array | Asn1): Asn1 {
  const content = bytes instanceof Uint8Array ? toBinary(bytes) : asn1.toDer(bytes).getBytes()
  return asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, content)
}

/** A BIT STRING; the first content octet is the count of unused bits in the last byte. */
export function createBitString(bytes: Uint8Array, unusedBits = 0): Asn1 {
  return asn1.create(
    Class.UNIVERSAL,
    Type.BITSTRING,
    false,
    String.fromCharCode(unusedBits) + toBinary(bytes),
  )
}

export function createUtf8String(text: string): Asn1 {
  return asn1.create(
    Class.UNIVERSAL,
    Type.UTF8,
    false,
    Buffer.from(text, 'utf8').toString('latin1'),
  )
}

/** A Time (RFC 5280 §4.1.2.5): UTCTime before 2050, GeneralizedTime from then on. */
export function createTime(date: Date): Asn1 {
  if (date.getTime() < UTC_TIME_END) {
    return asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, asn1.dateToUtcTime(date))
  }
  return asn1.create(Class.UNIVERSAL, Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date))
}

/** `[tag] EXPLICIT inner` */
export function createExplicit(tag: number, inner: Asn1): Asn1 {
  return asn1.create(Class.CONTEXT_SPECIFIC, tag, true, [inner])
}

/** `[tag] IMPLICIT` primitive value, e.g. a GeneralName's dNSName or iPAddress. */
export function createImplicit(tag: number, bytes: Uint8Array | string): Asn1 {
  const content = typeof bytes === 'string' ? bytes : toBinary(bytes)
  return asn1.create(Class.CONTEXT_SPECIFIC, tag, false, content)
}

/** Children of a constructed value; throws on a primitive, which means malformed input. */
export function getChildren(value: Asn1): Asn1[] {
  if (!Array.isArray(value.value)) {
    throw new TypeError('expected a constructed ASN.1 value')
  }
  return value.value
}

export function getOid(value: Asn1): string {
  return asn1.derToOid(value.value as string)
}

export function getBytes(value: Asn1): Buffer {
  return Buffer.from(value.value as string, 'latin1')
}

export function isContextTag(value: Asn1, tag: number): boolean {
  return value.tagClass === Class.CONTEXT_SPECIFIC && value.type === tag
}
