import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { CONFIG_KEYS } from '../../src/config/config-keys.ts'
import { problemsOf } from './helpers.ts'

const docs = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8')
const errorsSource = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8')

/** How docs/config.md writes each key of a section. */
function documentedName(section: string, key: string): string {
  if (section === 'top') {
    return `| \`${key}\` |`
  }
  if (section === 'headers.add') {
    return `{ ${CONFIG_KEYS['headers.add'].join(', ')} }`
  }
  const list = ['rules', 'headers', 'throttle', 'credits'].includes(section)
  return `\`${section}${list ? '[]' : ''}.${key}\``
}

describe('docs/config.md', () => {
  const keys = Object.entries(CONFIG_KEYS).flatMap(([section, list]) =>
    list.map((key) => [section, key] as const),
  )

  test.each(keys)('should document %s key %s', (section, key) => {
    expect(docs).toContain(documentedName(section, key))
  })

  const codes = [...errorsSource.matchAll(/'(ROXY_E_(?:CONFIG_\w+|RULE_SYNTAX))'/g)].map(
    (m) => m[1],
  )

  test.each([...new Set(codes)])('should list error code %s', (code) => {
    expect(docs).toContain(`| \`${code}\` |`)
  })

  test('should show error lines that roxy really prints', () => {
    const yaml = [
      'listen: "127.0.0.1:80800"',
      'reload_interval_secs: 5',
      'tls:',
      '  ca_crt: ./ca.crt',
      'rules:',
      '  - name: health',
      '    rule: \'path("/health") = pass\'',
      '  - name: api',
      '    rule: \'host("x") !! = pass\'',
      '  - name: tag',
      '    rule: \'host("y") = mangle\'',
      'headers:',
      '  - add: [{name: X-A, value: b}]',
      '    rules: [apii]',
    ].join('\n')
    const printed = problemsOf(yaml).map(
      (p) => `/etc/roxy/config.yaml:${p.line}:${p.col}: ${p.message}`,
    )
    const block = /## Errors[\s\S]*?```\n([\s\S]*?)```/.exec(docs)![1].trim().split('\n')
    expect(printed).toEqual(block)
  })
})
