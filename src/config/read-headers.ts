/**
 * Reads `headers:`: which rules trigger header changes, and the changes, each name and
 * value checked against RFC 9110 so a config can never split or smuggle a header.
 */

import { CONFIG_KEYS } from './config-keys.ts'
import { isHeaderName, isHeaderValue } from './header-syntax.ts'
import { findRule } from './read-rules.ts'
import type { RuleIndex } from './read-rules.ts'
import type { HeaderEntry, HeaderValue, RoxyConfig } from './schema.ts'
import type { Field, YamlReader } from './yaml-reader.ts'

/** Fills `config.headers`; names of rules must exist in `index`. */
export function readHeaders(
  reader: YamlReader,
  field: Field | undefined,
  config: RoxyConfig,
  index: RuleIndex,
): void {
  for (const item of reader.readList(field)) {
    const fields = reader.readEntry(item, CONFIG_KEYS.headers)
    if (!fields) {
      continue
    }
    const entry: HeaderEntry = {
      rules: readRuleNames(reader, item, fields.get('rules'), index),
      add: reader.readList(fields.get('add')).flatMap((f) => readAdd(reader, f)),
      remove: reader.readList(fields.get('remove')).flatMap((f) => readRemove(reader, f)),
    }
    config.headers.push(entry)
  }
}

function readRuleNames(
  reader: YamlReader,
  item: Field,
  field: Field | undefined,
  index: RuleIndex,
): string[] {
  if (!field || field.node === null) {
    reader.report('ROXY_E_CONFIG_MISSING', field?.at ?? item.at, `${item.path}.rules is required`)
    return []
  }
  const names: string[] = []
  for (const nameField of reader.readList(field)) {
    const name = reader.readRequiredString(nameField, nameField.path, nameField.at).trim()
    const facts = name ? findRule(reader, nameField, name, index) : undefined
    if (facts?.inspection && !facts.inspection.hasMangle) {
      const why = `rule '${name}' has no mangle action, so these header changes never apply`
      reader.warn(nameField.at, `${nameField.path}: ${why}`)
    }
    if (name) {
      names.push(name)
    }
  }
  return names
}

function readAdd(reader: YamlReader, item: Field): HeaderValue[] {
  const fields = reader.readEntry(item, CONFIG_KEYS['headers.add'])
  if (!fields) {
    return []
  }
  const name = reader.readRequiredString(fields.get('name'), `${item.path}.name`, item.at)
  const value = reader.readString(fields.get('value'))
  let ok = checkName(reader, fields.get('name'), name)
  if (value === undefined && !fields.get('value')?.node) {
    reader.report('ROXY_E_CONFIG_MISSING', item.at, `${item.path}.value is required`)
    ok = false
  } else if (value !== undefined && !isHeaderValue(value)) {
    const message = `${item.path}.value for '${name}' holds a control character (CR, LF, NUL...)`
    reader.report('ROXY_E_CONFIG_INVALID', fields.get('value')!.at, message)
    ok = false
  }
  return ok && value !== undefined ? [{ name, value }] : []
}

function readRemove(reader: YamlReader, item: Field): string[] {
  const name = reader.readRequiredString(item, item.path, item.at)
  return checkName(reader, item, name) ? [name] : []
}

function checkName(reader: YamlReader, field: Field | undefined, name: string): boolean {
  if (!field || name === '') {
    return false
  }
  if (!isHeaderName(name)) {
    const message = `${field.path}: '${name}' is not a valid header name (RFC 9110 token)`
    reader.report('ROXY_E_CONFIG_INVALID', field.at, message)
    return false
  }
  return true
}
