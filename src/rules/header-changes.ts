import { isSameHeaderName, toLowerAscii } from './rule-request.ts'

/**
 * Header rewriting from the config's `headers:` entries (Roxy shape):
 *
 *   headers:
 *     - rules: [api-key]             # applies when one of these mangle rules holds
 *       remove: [X-Debug]
 *       add: [{ name: X-Env, value: prod }]
 *
 * One entry turns into a list of changes, removes first, then adds, so
 * `remove: [X-Env]` + `add: [X-Env: prod]` replaces a header. `add` appends
 * (a header may repeat); it never overwrites on its own.
 */
export type HeaderChange =
  | { readonly op: 'remove'; readonly name: string }
  | { readonly op: 'add'; readonly name: string; readonly value: string }

export interface HeaderEntry {
  /** Names of the rules this entry belongs to. */
  rules: readonly string[]
  add?: readonly { name: string; value: string }[]
  remove?: readonly string[]
}

export function buildEntryChanges(entry: HeaderEntry): HeaderChange[] {
  const changes: HeaderChange[] = []
  for (const name of entry.remove ?? []) {
    changes.push({ op: 'remove', name })
  }
  for (const { name, value } of entry.add ?? []) {
    changes.push({ op: 'add', name, value })
  }
  return changes
}

/**
 * Apply changes, in order, to a flat header list ([name, value, ...]) and
 * return the new list; names are compared without regard to case. The input
 * is returned unchanged when there are no changes.
 */
export function applyHeaderChanges(
  headers: readonly string[],
  changes: readonly HeaderChange[],
): readonly string[] {
  if (changes.length === 0) {
    return headers
  }
  let out = headers.slice()
  for (const change of changes) {
    if (change.op === 'add') {
      out.push(change.name, change.value)
    } else {
      out = removeHeader(out, toLowerAscii(change.name))
    }
  }
  return out
}

function removeHeader(headers: string[], lowerName: string): string[] {
  const kept: string[] = []
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (!isSameHeaderName(headers[i], lowerName)) {
      kept.push(headers[i], headers[i + 1])
    }
  }
  return kept
}

/** `remove X-Debug; add X-Env: prod`, or `none`. */
export function explainHeaderChanges(changes: readonly HeaderChange[]): string {
  if (changes.length === 0) {
    return 'none'
  }
  return changes
    .map((c) => (c.op === 'add' ? `add ${c.name}: ${c.value}` : `remove ${c.name}`))
    .join('; ')
}
