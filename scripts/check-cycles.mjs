#!/usr/bin/env node
// Fails when the modules under src/ import each other in a cycle (type-only imports included: a
// cycle of types is still two domains that cannot be understood, or moved, apart).
// Usage: node scripts/check-cycles.mjs [root]   (also run by test/architecture.test.ts)
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const IMPORT_RE = /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/gm

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return files(path)
    return /\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

function resolveImport(from, spec) {
  const base = resolve(dirname(from), spec)
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return undefined
}

/**
 * Every cycle, as the strongly connected components of the import graph, at two levels: between
 * domains (the folders under src/, where `http → sessions → http` is a cycle even when no single
 * file imports itself back) and between files.
 */
export function findCycles(root) {
  const all = files(root)
  const domainOf = (f) => relative(root, f).split(/[\\/]/)[0]
  const fileGraph = new Map(all.map((f) => [f, new Set()]))
  const domainGraph = new Map(all.map((f) => [domainOf(f), new Set()]))
  const why = new Map()
  for (const file of all) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(IMPORT_RE)) {
      const target = resolveImport(file, m[1] ?? m[2] ?? m[3])
      if (!target || !fileGraph.has(target)) continue
      fileGraph.get(file).add(target)
      const [a, b] = [domainOf(file), domainOf(target)]
      if (a !== b) {
        domainGraph.get(a).add(b)
        if (!why.has(`${a}>${b}`)) why.set(`${a}>${b}`, `${relative(root, file)} → ${relative(root, target)}`)
      }
    }
  }
  const domains = components(domainGraph).map((c) => {
    const edges = c.flatMap((a) => c.filter((b) => why.has(`${a}>${b}`)).map((b) => why.get(`${a}>${b}`)))
    return `domains ${c.join(', ')}: ${edges.join('; ')}`
  })
  const filesCycles = components(fileGraph).map((c) => `files ${c.map((f) => relative(root, f)).join(', ')}`)
  return [...domains, ...filesCycles]
}

function components(graph) {
  // Tarjan's strongly connected components, iterative enough for a source tree.
  let index = 0
  const stack = []
  const onStack = new Set()
  const idx = new Map()
  const low = new Map()
  const found = []
  const visit = (v) => {
    idx.set(v, index)
    low.set(v, index)
    index++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v)) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)))
    }
    if (low.get(v) === idx.get(v)) {
      const component = []
      let w
      do {
        w = stack.pop()
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || graph.get(v).has(v)) found.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!idx.has(v)) visit(v)
  return found
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'src'))
  const cycles = findCycles(root)
  if (cycles.length) {
    console.error(`import cycles under ${relative(process.cwd(), root) || '.'}:`)
    for (const c of cycles) console.error(`  ${c}`)
    process.exit(1)
  }
  console.log('no import cycles')
}
