import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain ES module script, without types
import { findCycles } from '../scripts/check-cycles.mjs'

const src = join(import.meta.dirname, '..', 'src')

describe('architecture', () => {
  it('has no import cycle between domains or files under src/', () => {
    expect(findCycles(src)).toEqual([])
  })

  it('the cycle check finds a cycle between two domains, and one between two files', () => {
    const root = mkdtempSync(join(tmpdir(), 'kassa-cycles-'))
    mkdirSync(join(root, 'a'))
    mkdirSync(join(root, 'b'))
    writeFileSync(join(root, 'a', 'one.ts'), "import type { B } from '../b/two'\nexport type A = B\n")
    writeFileSync(join(root, 'b', 'two.ts'), "export type B = string\n")
    writeFileSync(join(root, 'b', 'three.ts'), "import { x } from '../a/four'\nexport const y = x\n")
    writeFileSync(join(root, 'a', 'four.ts'), "export const x = 1\n")
    const cycles: string[] = findCycles(root)
    expect(cycles).toHaveLength(1)
    expect(cycles[0]).toMatch(/^domains a, b: /)

    writeFileSync(join(root, 'a', 'five.ts'), "import { six } from './six'\nexport const five = six\n")
    writeFileSync(join(root, 'a', 'six.ts'), "export { five as six } from './five'\n")
    expect(findCycles(root).filter((c: string) => c.startsWith('files'))).toEqual(['files a/five.ts, a/six.ts'])
  })

  it('keeps every file of the checkout domain under 400 lines', () => {
    for (const dir of ['checkouts', 'checkout-page']) {
      for (const name of readdirSync(join(src, dir)).filter((n) => n.endsWith('.ts'))) {
        const lines = readFileSync(join(src, dir, name), 'utf8').split('\n').length
        expect(lines, `${dir}/${name}`).toBeLessThan(400)
      }
    }
  })
})
