/**
 * Header syntax per RFC 9110.
 *
 *   field-name  = token                                    ; §5.1
 *   token       = 1*tchar                                  ; §5.6.2
 *   tchar       = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *                 "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 *   field-value = *( field-vchar / SP / HTAB )             ; §5.5, loosely
 *   field-vchar = VCHAR / obs-text                         ; %x21-7E / %x80-FF
 *
 * Values are checked loosely on whitespace (leading and trailing SP are allowed, as
 * receivers strip them) but strictly on control characters: CR, LF and NUL in a value
 * would let a config split or smuggle headers.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// What a value may not contain: control characters other than HTAB, and DEL.
const VALUE_FORBIDDEN = /[\x00-\x08\x0a-\x1f\x7f]/

/** True when `name` is an RFC 9110 token. */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name)
}

/** True when `value` has only visible characters, obs-text, space and tab. */
export function isHeaderValue(value: string): boolean {
  return !VALUE_FORBIDDEN.test(value)
}
