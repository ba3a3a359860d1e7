import type { GlobNode } from './parse-glob.ts'

/**
 * A glob as a Thompson NFA, run by keeping the set of live states: each input
 * character visits every state at most once, so a match costs
 * O(input length x pattern size) whatever the pattern. There is no
 * backtracking, hence no catastrophic case (`a*a*a*a*b` against `aaaa...`).
 *
 * States live in parallel typed arrays, indexed by state number:
 *
 *   kind  [ CHAR | ANY | CLASS | SPLIT | MATCH ]
 *   arg   [ code | -   | class | -     | -     ]
 *   next  [ to   | to  | to    | to    | -     ]   SPLIT also follows
 *   alt   [ -    | -   | -     | to    | -     ]   alt without reading
 *
 * The live-state lists, marks and the closure stack are allocated once per
 * glob, so a match allocates nothing. Not re-entrant, which is fine: a match
 * runs to completion synchronously.
 */

const CHAR = 0
const ANY = 1
const CLASS = 2
const SPLIT = 3
const MATCH = 4

const UPPER_A = 65
const UPPER_Z = 90
const CASE_BIT = 32
/** Marks restart from 1 before the generation counter could overflow. */
const GENERATION_LIMIT = 0x3fffffff

export class GlobNfa {
  readonly #kind: Uint8Array
  readonly #arg: Int32Array
  readonly #next: Int32Array
  readonly #alt: Int32Array
  readonly #classes: Int32Array[]
  readonly #negated: boolean[]
  readonly #start: number
  readonly #fold: boolean
  #current: Int32Array
  #following: Int32Array
  readonly #mark: Int32Array
  readonly #stack: Int32Array
  #generation = 0
  /** States visited by the last `test`; a test hook for the linear-time check. */
  lastSteps = 0

  constructor(nodes: GlobNode[], fold: boolean) {
    const builder = new NfaBuilder()
    const match = builder.add(MATCH, 0, -1, -1)
    this.#start = builder.sequence(nodes, match)
    this.#kind = Uint8Array.from(builder.kind)
    this.#arg = Int32Array.from(builder.arg)
    this.#next = Int32Array.from(builder.next)
    this.#alt = Int32Array.from(builder.alt)
    this.#classes = builder.classes
    this.#negated = builder.negated
    this.#fold = fold
    const size = this.#kind.length
    this.#current = new Int32Array(size)
    this.#following = new Int32Array(size)
    this.#mark = new Int32Array(size)
    this.#stack = new Int32Array(size * 2 + 2)
  }

  get stateCount(): number {
    return this.#kind.length
  }

  test(input: string): boolean {
    this.lastSteps = 0
    let count = this.#closeOver(this.#start, this.#current, 0, this.#nextGeneration())
    for (let i = 0; i < input.length && count > 0; i++) {
      count = this.#step(this.#foldAt(input, i), count)
    }
    for (let i = 0; i < count; i++) {
      if (this.#kind[this.#current[i]] === MATCH) {
        return true
      }
    }
    return false
  }

  /** Advance every live state over character `c`; returns the new live count. */
  #step(c: number, count: number): number {
    const from = this.#current
    const to = this.#following
    const generation = this.#nextGeneration()
    let added = 0
    for (let i = 0; i < count; i++) {
      const state = from[i]
      this.lastSteps++
      if (this.#accepts(state, c)) {
        added = this.#closeOver(this.#next[state], to, added, generation)
      }
    }
    this.#current = to
    this.#following = from
    return added
  }

  #accepts(state: number, c: number): boolean {
    switch (this.#kind[state]) {
      case CHAR:
        return this.#arg[state] === c
      case ANY:
        return true
      case CLASS:
        return this.#inClass(this.#arg[state], c)
      default:
        return false
    }
  }

  #inClass(index: number, c: number): boolean {
    const ranges = this.#classes[index]
    let inside = false
    for (let i = 0; i < ranges.length && !inside; i += 2) {
      inside = c >= ranges[i] && c <= ranges[i + 1]
    }
    return inside !== this.#negated[index]
  }

  /** Add `state` and everything SPLITs reach from it to `list`, each state once. */
  #closeOver(state: number, list: Int32Array, count: number, generation: number): number {
    const stack = this.#stack
    let top = 0
    stack[top++] = state
    while (top > 0) {
      const s = stack[--top]
      if (this.#mark[s] === generation) {
        continue
      }
      this.#mark[s] = generation
      if (this.#kind[s] === SPLIT) {
        stack[top++] = this.#alt[s]
        stack[top++] = this.#next[s]
      } else {
        list[count++] = s
      }
    }
    return count
  }

  #foldAt(input: string, i: number): number {
    const c = input.charCodeAt(i)
    return this.#fold && c >= UPPER_A && c <= UPPER_Z ? c | CASE_BIT : c
  }

  #nextGeneration(): number {
    if (this.#generation >= GENERATION_LIMIT) {
      this.#mark.fill(0)
      this.#generation = 0
    }
    return ++this.#generation
  }
}

/** Builds the state arrays back to front: each node is wired to the state after it. */
class NfaBuilder {
  kind: number[] = []
  arg: number[] = []
  next: number[] = []
  alt: number[] = []
  classes: Int32Array[] = []
  negated: boolean[] = []

  add(kind: number, arg: number, next: number, alt: number): number {
    this.kind.push(kind)
    this.arg.push(arg)
    this.next.push(next)
    this.alt.push(alt)
    return this.kind.length - 1
  }

  sequence(nodes: GlobNode[], next: number): number {
    let start = next
    for (let i = nodes.length - 1; i >= 0; i--) {
      start = this.node(nodes[i], start)
    }
    return start
  }

  node(node: GlobNode, next: number): number {
    switch (node.type) {
      case 'char':
        return this.add(CHAR, node.code, next, -1)
      case 'any-char':
        return this.add(ANY, 0, next, -1)
      case 'class':
        this.classes.push(Int32Array.from(node.ranges))
        this.negated.push(node.negated)
        return this.add(CLASS, this.classes.length - 1, next, -1)
      case 'any-run':
        return this.#loop(next)
      case 'alternatives':
        return this.#alternatives(node.branches, next)
    }
  }

  /** `*`: SPLIT(read one char and come back | go on). */
  #loop(next: number): number {
    const split = this.add(SPLIT, 0, -1, next)
    this.next[split] = this.add(ANY, 0, split, -1)
    return split
  }

  #alternatives(branches: GlobNode[][], next: number): number {
    let start = this.sequence(branches[branches.length - 1], next)
    for (let i = branches.length - 2; i >= 0; i--) {
      start = this.add(SPLIT, 0, this.sequence(branches[i], next), start)
    }
    return start
  }
}
