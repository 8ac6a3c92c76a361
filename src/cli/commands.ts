import { parseArgs } from 'node:util'
import { z } from 'zod'
import type { Deps } from '../deps'
import { RequestValidationError } from '../http/errors'
import { Uuid } from '../http/schemas'
import { createAccessToken, createOrganization, createUser } from '../organizations/service'

/**
 * The admin commands, as they travel: parsed from argv by the CLI, then either run in-process or sent as one
 * JSON line over the admin socket to the process holding the embedded database. `runAdminCommand` is the
 * single place that executes them, on both paths.
 */
export const AdminCommand = z.discriminatedUnion('command', [
  z.object({ command: z.literal('create-org'), name: z.string(), slug: z.string() }),
  z.object({
    command: z.literal('create-token'),
    organization_id: Uuid,
    scopes: z.array(z.string()).min(1).optional(),
    comment: z.string().optional(),
  }),
  z.object({ command: z.literal('create-user'), email: z.string(), password: z.string(), organization_id: Uuid }),
])
export type AdminCommand = z.infer<typeof AdminCommand>

type CreateUser = Extract<AdminCommand, { command: 'create-user' }>
/** What argv says: `create-user` may leave the password out, to be read from standard input. */
export type ParsedAdminCommand = Exclude<AdminCommand, CreateUser> | (Omit<CreateUser, 'password'> & { password?: string })

export interface AdminResult {
  /** Printed on stdout as one JSON line. */
  output: Record<string, string>
  /** Printed on stderr: things the operator should know that are not the result. */
  notes: string[]
}

export async function runAdminCommand(deps: Pick<Deps, 'db' | 'clock'>, command: AdminCommand): Promise<AdminResult> {
  switch (command.command) {
    case 'create-org': {
      const { organization, accessToken } = await createOrganization(deps, { name: command.name, slug: command.slug })
      return { output: { organization_id: organization.id, access_token: accessToken }, notes: [] }
    }
    case 'create-token': {
      const token = await createAccessToken(deps, {
        organizationId: command.organization_id,
        scopes: command.scopes,
        comment: command.comment,
      })
      return { output: { access_token: token }, notes: [] }
    }
    case 'create-user': {
      const user = await createUser(deps, { email: command.email, password: command.password, organizationId: command.organization_id })
      const notes = user.existing ? [`${user.email} already had an account: it now also has access to the organization; its password is unchanged.`] : []
      return { output: { user_id: user.id, email: user.email }, notes }
    }
  }
}

// The services name fields as the API does; the operator typed flags.
const FLAG_OF: Record<string, string> = { organization_id: '--org' }

/**
 * What the operator reads when a command fails: a rule the input broke (`invalid`: the service's message,
 * naming the flag) or anything else (`failed`). Computed where the command ran, so both paths print the same.
 */
export function errorMessage(err: unknown): { kind: 'invalid' | 'failed'; message: string } {
  if (err instanceof RequestValidationError) {
    const message = err.issues
      .map((i) => {
        const field = String(i.loc.filter((l) => l !== 'body').at(-1) ?? '')
        return field ? `${FLAG_OF[field] ?? `--${field}`}: ${i.msg}` : i.msg
      })
      .join('; ')
    return { kind: 'invalid', message }
  }
  return { kind: 'failed', message: err instanceof Error ? err.message : String(err) }
}

/** A command a process logs: everything except secrets. */
export function describeCommand(command: AdminCommand): Record<string, unknown> {
  const { password: _password, ...rest } = command as AdminCommand & { password?: string }
  return rest
}

/** Bad command line: the CLI prints the message and the usage hint, and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const USAGE = `Kassa admin

Usage: npm run --silent admin -- <command> [options]

Commands:
  create-org    --name NAME --slug SLUG
                Create an organization. Prints {"organization_id": "…", "access_token": "polar_oat_…"}
                (a token with every scope).
  create-token  --org ORGANIZATION_ID [--scopes a,b,…] [--comment TEXT]
                Create an access token (every scope unless --scopes is given). Prints {"access_token": "…"}.
  create-user   --email EMAIL --org ORGANIZATION_ID [--password PASSWORD]
                Create a dashboard user (or give an existing one access). Prints {"user_id": "…", "email": "…"}.
                The password is asked for (not echoed) on a terminal, or read from the first line of
                standard input when piped: printf '%s\n' "$PW" | npm run --silent admin -- create-user …
                --password works too, but the password then shows in shell history and the process list.

Options:
  -h, --help    Show this help.

The result is one JSON line on stdout; messages go to stderr. Exit status: 0 success, 1 the command failed,
2 bad usage, 78 bad configuration. Configuration comes from the same environment as the server
(DATABASE_URL, DATA_DIR). On the embedded database, a running server executes the command for the CLI.
`

const OPTIONS = {
  'create-org': { name: { type: 'string' }, slug: { type: 'string' } },
  'create-token': { org: { type: 'string' }, scopes: { type: 'string' }, comment: { type: 'string' } },
  'create-user': { email: { type: 'string' }, password: { type: 'string' }, org: { type: 'string' } },
} as const

type CommandName = keyof typeof OPTIONS
const isCommandName = (s: string | undefined): s is CommandName => s !== undefined && Object.hasOwn(OPTIONS, s)

/** argv (after the script name) → a command, or `'help'`. Throws `UsageError`. */
export function parseAdminArgs(argv: string[]): ParsedAdminCommand | 'help' {
  if (argv.length === 0) throw new UsageError('no command given')
  if (argv[0] === 'help' || argv.some((a) => a === '--help' || a === '-h')) return 'help'
  const [name, ...rest] = argv
  if (!isCommandName(name)) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(OPTIONS).join(', ')})`)

  let values: Record<string, string | undefined>
  try {
    ;({ values } = parseArgs({ args: rest, options: OPTIONS[name], strict: true, allowPositionals: false }) as { values: Record<string, string | undefined> })
  } catch (err) {
    // Node's messages run to several lines of advice; the first says what is wrong.
    const first = ((err as Error).message.split('\n')[0] ?? '').replace(/\. To specify a positional argument.*$/, '')
    throw new UsageError(`${name}: ${first}${/ambiguous/.test(first) ? ' (is its value missing?)' : ''}`)
  }
  const required = (flag: string): string => {
    const v = values[flag]
    if (v === undefined || v.trim() === '') throw new UsageError(`${name}: --${flag} is required`)
    return v
  }
  const orgId = (): string => {
    const v = required('org')
    if (!Uuid.safeParse(v).success) throw new UsageError(`${name}: --org must be an organization id (a UUID), got "${v}"`)
    return v
  }

  switch (name) {
    case 'create-org':
      return { command: name, name: required('name'), slug: required('slug') }
    case 'create-token': {
      const organization_id = orgId()
      let scopes: string[] | undefined
      if (values.scopes !== undefined) {
        scopes = values.scopes.split(',').map((s) => s.trim()).filter(Boolean)
        if (scopes.length === 0) throw new UsageError(`${name}: --scopes needs at least one scope (omit it for every scope)`)
      }
      return { command: name, organization_id, ...(scopes ? { scopes } : {}), ...(values.comment !== undefined ? { comment: values.comment } : {}) }
    }
    case 'create-user':
      return { command: name, email: required('email'), organization_id: orgId(), ...(values.password !== undefined ? { password: values.password } : {}) }
  }
}

/** `{"a": "x", "b": "y"}`: one line of JSON, spaced as the docs show it. */
export function formatOutput(output: Record<string, string>): string {
  return `{${Object.entries(output).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`
}
