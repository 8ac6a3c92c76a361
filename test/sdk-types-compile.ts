import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/**
 * Type-checks recorded JSON against SDK 1.x's TypeScript models, for test/sdk-1x-types.test.ts.
 *
 * Each sample becomes `const rN = <json> as const; const tN: <Type> = rN as DeepMutable<typeof rN>`:
 * the annotation is not on a fresh object literal, so fields 1.x does not know (Kassa's own, such as
 * `checkout_link_id`) are allowed, while every field 1.x declares required must be there with a type it
 * accepts (literal enum values included, as `as const` keeps them).
 */
export interface Sample {
  /** A type the version module exports: `models.Product`, `webhooks.WebhookOrderPaidPayload`. */
  type: string
  /** Where it came from, for the diagnostics. */
  label: string
  json: unknown
}

const HEADER = `import type { models, webhooks } from 'polar-sdk-1/2026-10'
type DeepMutable<T> = T extends readonly unknown[] ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T
// SDK 1.0.1's one wrong type: CustomerStateSubscription.status is the benefit grant's Status ("granted" |
// "disabled"), a name clash in its generator; Polar's server sends "active" | "trialing"
// (server/polar/customer/schemas/state.py). Every other field of the payload is checked as 1.x types it.
type StateSubscription = Omit<models.CustomerStateSubscription, 'status'> & { status: 'active' | 'trialing' }
type FixState<T> = T extends { active_subscriptions: unknown } ? Omit<T, 'active_subscriptions'> & { active_subscriptions: StateSubscription[] } : T
export type CustomerStateChangedPayload = Omit<webhooks.WebhookCustomerStateChangedPayload, 'data'> & { data: FixState<models.CustomerState> }
`

export function sourceFor(samples: Sample[]): string {
  const lines = [HEADER]
  samples.forEach((s, i) => {
    lines.push(`// ${s.label}`)
    lines.push(`const r${i} = ${JSON.stringify(s.json, null, 1)} as const`)
    lines.push(`export const t${i}: ${s.type} = r${i} as DeepMutable<typeof r${i}>`)
  })
  return lines.join('\n') + '\n'
}

/**
 * Compiles the given files (name → source) together, in a temporary folder inside the project, so that
 * `polar-sdk-1` resolves from the project's node_modules. Returns the diagnostics per file, formatted.
 */
export function typeCheck(files: Record<string, string>): Record<string, string[]> {
  const root = path.resolve(import.meta.dirname, '..')
  const dir = mkdtempSync(path.join(root, '.sdk-types-'))
  try {
    const names = Object.keys(files).map((name) => {
      const file = path.join(dir, name)
      writeFileSync(file, files[name]!)
      return file
    })
    const program = ts.createProgram(names, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    })
    const out: Record<string, string[]> = {}
    for (const [i, name] of Object.keys(files).entries()) {
      const sf = program.getSourceFile(names[i]!)!
      const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]
      out[name] = diagnostics.map((d) => {
        const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null
        const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
        return where ? `${name}:${where.line + 1}:${where.character + 1} ${text}` : text
      })
    }
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
