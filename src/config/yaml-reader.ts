/**
 * Typed reads from a parsed YAML document, each remembering where in the file it looked.
 *
 * A read never throws: a wrong value records a `ConfigProblem` (file, line, col, code,
 * message naming the key) and returns the fallback, so one pass over the file collects every
 * problem. Positions come from the node ranges of the `yaml` package through its
 * `LineCounter`, 1-based like editors show them.
 */

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'
import type { Document, Node, Scalar } from 'yaml'
import type { ConfigProblem, RoxyErrorCode, SourcePosition } from '../errors.ts'
import { suggestClosest } from './did-you-mean.ts'

/** One key's value: its path for messages and where it sits in the file. */
export interface Field {
  /** Dotted path for messages: `pool.max_idle_per_host`, `rules[2].name`. */
  path: string
  /** The value, aliases resolved; null when the key has no value (`key:`). */
  node: Node | null
  /** The value's position, or the key's when the value is empty. */
  at: SourcePosition
  /** The key's position (the item's, for list items). */
  keyAt: SourcePosition
}

/** Aliases a file may use; bounds the work an alias-heavy ("billion laughs") file can cause. */
const MAX_ALIASES = 100
const MAX_SHOWN_CHARS = 60

/** One parsed file plus the problems and warnings found while reading it. */
export class YamlReader {
  readonly file: string
  readonly text: string
  readonly problems: ConfigProblem[] = []
  /** Warnings as `file:line:col: message`, each once, in the order they were found. */
  readonly warnings: string[] = []
  /** Every key and list item read so far, by path, for checks that relate several keys. */
  readonly fields = new Map<string, Field>()
  #lines = new LineCounter()
  #doc: Document.Parsed
  #aliases = 0

  constructor(text: string, file: string) {
    this.file = file
    this.text = text
    this.#doc = parseDocument(text, {
      lineCounter: this.#lines,
      prettyErrors: false,
      uniqueKeys: true,
    })
    this.#collectYamlErrors()
  }

  /** True when the YAML itself is broken (not just a duplicate key), so reading makes no sense. */
  hasSyntaxErrors(): boolean {
    return this.problems.some((p) => p.code === 'ROXY_E_CONFIG_SYNTAX')
  }

  /** The document's top-level value as a field with an empty path. */
  readRoot(): Field {
    const at = this.positionAt(0)
    return { path: '', node: this.#resolve(this.#doc.contents), at, keyAt: at }
  }

  /** 1-based line and column of a character offset. */
  positionAt(offset: number): SourcePosition {
    const { line, col } = this.#lines.linePos(offset)
    return { file: this.file, line: Math.max(line, 1), col: Math.max(col, 1) }
  }

  /** Records a problem; the load fails at the end with all of them. */
  report(code: RoxyErrorCode, at: SourcePosition, message: string): void {
    this.problems.push({ ...at, code, message })
  }

  /** Adds a warning once, as `file:line:col: message`. */
  warn(at: SourcePosition, message: string): void {
    const text = `${at.file}:${at.line}:${at.col}: ${message}`
    if (!this.warnings.includes(text)) {
      this.warnings.push(text)
    }
  }

  /**
   * The keys of a mapping, each checked against `known`. An unknown key is reported with a
   * did-you-mean suggestion and left out; `known` null accepts any key (`resolve:`). An empty
   * value reads as an empty mapping.
   */
  readMap(field: Field, known: readonly string[] | null): Map<string, Field> {
    const out = new Map<string, Field>()
    if (field.node === null) {
      return out
    }
    if (!isMap(field.node)) {
      this.#reportType(field, 'a mapping of keys')
      return out
    }
    for (const pair of field.node.items) {
      const keyNode = pair.key as Node | null
      const keyAt = this.#positionOf(keyNode, field.at)
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        this.report('ROXY_E_CONFIG_TYPE', keyAt, `keys in ${this.#name(field)} must be strings`)
        continue
      }
      const name = keyNode.value
      const path = field.path ? `${field.path}.${name}` : name
      if (known && !known.includes(name)) {
        this.#reportUnknownKey(path, name, known, keyAt)
        continue
      }
      const valueNode = pair.value as Node | null
      const node = this.#resolve(valueNode)
      const child = { path, node, at: this.#positionOf(valueNode, keyAt), keyAt }
      out.set(name, child)
      this.fields.set(path, child)
    }
    return out
  }

  /**
   * A list item that must be a mapping (`rules[0]`, `credits[1]`...): its keys, or undefined
   * after reporting the item when it is something else, so its keys are not also reported
   * as missing.
   */
  readEntry(item: Field, known: readonly string[]): Map<string, Field> | undefined {
    if (!isMap(item.node)) {
      this.#reportType(item, 'a mapping of keys')
      return undefined
    }
    return this.readMap(item, known)
  }

  /** The items of a sequence; an empty value reads as an empty list. */
  readList(field: Field | undefined): Field[] {
    if (!field || field.node === null) {
      return []
    }
    if (!isSeq(field.node)) {
      this.#reportType(field, 'a list')
      return []
    }
    return field.node.items.map((item, i) => {
      const at = this.#positionOf(item as Node | null, field.at)
      const path = `${field.path}[${i}]`
      const child = { path, node: this.#resolve(item as Node | null), at, keyAt: at }
      this.fields.set(path, child)
      return child
    })
  }

  /** A whole number in `min..max`; the fallback when absent, empty or wrong. */
  readInt(field: Field | undefined, fallback: number, min: number, max: number): number {
    if (!field || field.node === null) {
      return fallback
    }
    const value = isScalar(field.node) ? field.node.value : undefined
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.#reportType(field, 'a whole number')
      return fallback
    }
    if (value < min || value > max) {
      const message = `${field.path} must be from ${min} to ${max}, got ${value}`
      this.report('ROXY_E_CONFIG_RANGE', field.at, message)
      return fallback
    }
    return value
  }

  /** `true` or `false`; the fallback when absent, empty or wrong. */
  readBool(field: Field | undefined, fallback: boolean): boolean {
    if (!field || field.node === null) {
      return fallback
    }
    const value = isScalar(field.node) ? field.node.value : undefined
    if (typeof value !== 'boolean') {
      this.#reportType(field, 'true or false')
      return fallback
    }
    return value
  }

  /**
   * A scalar as text; numbers and booleans keep their source spelling (`name: 404` is the
   * name "404"). Undefined when absent, empty or not a scalar.
   */
  readString(field: Field | undefined): string | undefined {
    if (!field || field.node === null) {
      return undefined
    }
    if (!isScalar(field.node) || field.node.value === null) {
      this.#reportType(field, 'a string')
      return undefined
    }
    const { value, source } = field.node as Scalar & { source?: string }
    return typeof value === 'string' ? value : (source ?? String(value))
  }

  /** Like `readString`, but an absent, empty or blank value is reported as missing. */
  readRequiredString(field: Field | undefined, path: string, at: SourcePosition): string {
    const value = this.readString(field)
    if (value === undefined && (!field || field.node === null)) {
      this.report('ROXY_E_CONFIG_MISSING', field?.at ?? at, `${path} is required`)
    } else if (value !== undefined && value.trim() === '') {
      this.report('ROXY_E_CONFIG_INVALID', field!.at, `${path} must not be empty`)
    }
    return value ?? ''
  }

  /**
   * Maps a 1-based column inside a string scalar's text (a rule error) to the file: the
   * text line holding that column is looked up in the scalar's source. Exact for plain and
   * quoted scalars without escapes and for literal blocks (`|`); otherwise the position of
   * the scalar itself.
   */
  locateInText(field: Field, textColumn: number): SourcePosition {
    const node = field.node
    if (!isScalar(node) || typeof node.value !== 'string' || !node.range) {
      return field.at
    }
    const text = node.value
    const index = Math.min(Math.max(textColumn, 1) - 1, text.length)
    const lineStart = text.lastIndexOf('\n', index - 1) + 1
    const lineEnd = text.indexOf('\n', index)
    const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd)
    const raw = this.text.slice(node.range[0], node.range[1])
    const found = line ? raw.indexOf(line) : -1
    if (found < 0) {
      return field.at
    }
    return this.positionAt(node.range[0] + found + index - lineStart)
  }

  #collectYamlErrors(): void {
    for (const err of this.#doc.errors) {
      const code = err.code === 'DUPLICATE_KEY' ? 'ROXY_E_CONFIG_DUPLICATE' : 'ROXY_E_CONFIG_SYNTAX'
      const detail = err.message.split('\n')[0]
      const message =
        code === 'ROXY_E_CONFIG_DUPLICATE' ? `duplicate key: ${detail}` : `YAML syntax: ${detail}`
      this.report(code, this.positionAt(err.pos[0]), message)
    }
    for (const warning of this.#doc.warnings) {
      this.warn(this.positionAt(warning.pos[0]), `YAML: ${warning.message.split('\n')[0]}`)
    }
  }

  /** Follows an alias; an empty or `null` scalar becomes null ("use the default"). */
  #resolve(node: Node | null | undefined): Node | null {
    if (isScalar(node) && node.value === null) {
      return null
    }
    if (!isAlias(node)) {
      return node ?? null
    }
    this.#aliases++
    if (this.#aliases > MAX_ALIASES) {
      const at = this.#positionOf(node, this.positionAt(0))
      this.report('ROXY_E_CONFIG_INVALID', at, `more than ${MAX_ALIASES} YAML aliases`)
      return null
    }
    return this.#resolve(node.resolve(this.#doc))
  }

  #positionOf(node: Node | null | undefined, fallback: SourcePosition): SourcePosition {
    const start = node?.range?.[0]
    return start === undefined ? fallback : this.positionAt(start)
  }

  #name(field: Field): string {
    return field.path || 'the top level'
  }

  #reportType(field: Field, expected: string): void {
    const got = describeNode(field.node)
    const message = `${field.path || 'the config'} must be ${expected}, got ${got}`
    this.report('ROXY_E_CONFIG_TYPE', field.at, message)
  }

  #reportUnknownKey(path: string, name: string, known: readonly string[], at: SourcePosition) {
    const guess = suggestClosest(name, known)
    const hint = guess ? ` (did you mean '${guess}'?)` : ''
    this.report('ROXY_E_CONFIG_UNKNOWN_KEY', at, `unknown key '${path}'${hint}`)
  }
}

/** A short description of a value for "got ..." in messages. */
function describeNode(node: Node | null): string {
  if (isMap(node)) {
    return 'a mapping'
  }
  if (isSeq(node)) {
    return 'a list'
  }
  if (!isScalar(node)) {
    return 'nothing'
  }
  const text = JSON.stringify(node.value) ?? String(node.value)
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}...` : text
}
