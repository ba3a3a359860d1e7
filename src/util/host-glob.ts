/**
 * Host patterns for `mitm.bypass` and `resolve`: `*` matches any run of
 * characters (dots included), `?` one character; matching is
 * case-insensitive. Compiled once to an anchored RegExp whose only
 * quantifier is a lazy-free `.*` per star, so matching stays linear for the
 * short inputs hosts are.
 */
export function compileHostGlob(pattern: string): (host: string) => boolean {
  const lower = pattern.toLowerCase()
  if (!lower.includes('*') && !lower.includes('?')) {
    return (host) => host === lower
  }
  let source = '^'
  for (const ch of lower) {
    if (ch === '*') {
      source += '.*'
    } else if (ch === '?') {
      source += '.'
    } else {
      source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    }
  }
  const re = new RegExp(source + '$')
  return (host) => re.test(host)
}
