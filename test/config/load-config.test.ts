import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load-config.ts'
import { ConfigError } from '../../src/errors.ts'
import { inspectFakeRule } from './fake-inspector.ts'

const dir = mkdtempSync(join(tmpdir(), 'roxy-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const opts = { inspectRule: inspectFakeRule }

function writeConfig(name: string, content: string | Uint8Array): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

function readErrorOf(path: string): ConfigError {
  try {
    loadConfig(path, opts)
  } catch (err) {
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('given a file on disk', () => {
  test('should resolve relative paths against the directory of the file', () => {
    const path = writeConfig('paths.yaml', 'tls: { ca_cert: ca.crt, ca_key: ./keys/ca.key }\n')
    const { config, bytes } = loadConfig(path, opts)
    expect(config.file).toBe(path)
    expect(config.tls.caCert).toBe(join(dir, 'ca.crt'))
    expect(config.tls.caKey).toBe(join(dir, 'keys', 'ca.key'))
    expect(config.state.path).toBe(join(dir, 'roxy-state.sqlite'))
    expect(new TextDecoder().decode(bytes)).toContain('ca_cert')
  })

  test('should name the file in every problem', () => {
    const path = writeConfig('bad.yaml', 'listen: nope\n')
    const error = readErrorOf(path)
    expect(error.problems[0]).toMatchObject({ file: path, line: 1, col: 9 })
    expect(error.message.startsWith(`${path}:1:9: listen:`)).toBe(true)
  })

  test('should drop a UTF-8 byte order mark', () => {
    const path = writeConfig('bom.yaml', '\uFEFFlisten: "127.0.0.1:9"\n')
    expect(loadConfig(path, opts).config.listen.port).toBe(9)
  })
})

describe('given a file that cannot be read', () => {
  mkdirSync(join(dir, 'a-directory'))

  // prettier-ignore
  test.each([
    ['a missing file', () => join(dir, 'missing.yaml'), 'no such file (ENOENT)'],
    ['a directory', () => join(dir, 'a-directory'), 'EISDIR'],
    ['bytes that are not UTF-8', () => writeConfig('latin1.yaml', new Uint8Array([0x6c, 0xe9, 0x0a])), 'not valid UTF-8'],
  ])('%s should throw ROXY_E_CONFIG_READ naming the path', (_, makePath, reason) => {
    const path = makePath()
    const error = readErrorOf(path)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.code).toBe('ROXY_E_CONFIG_READ')
    expect(error.problems[0].file).toBe(path)
    expect(error.message).toContain(path)
    expect(error.message).toContain(reason)
  })
})
