// The admin CLI: `npm run --silent admin -- <command> [options]`. See USAGE in ./commands.
import { ConfigError, loadConfig } from '../config'
import { USAGE, UsageError, errorMessage, formatOutput, parseAdminArgs, type AdminCommand } from './commands'
import { readPassword } from './password-input'
import { AdminCommandError, executeAdminCommand } from './execute'

// stdout carries exactly one JSON line, so scripts can parse it: anything else a library prints goes to stderr.
const writeStdout = process.stdout.write.bind(process.stdout)
const toStderr = (...args: unknown[]) => console.error(...args)
console.log = toStderr
console.info = toStderr
console.debug = toStderr

const EXIT_FAILED = 1
const EXIT_USAGE = 2
const EXIT_CONFIG = 78

function fail(code: number, message: string): never {
  process.stderr.write(`kassa admin: ${message}\n`)
  process.exit(code)
}

async function main(argv: string[]): Promise<void> {
  let command
  try {
    command = parseAdminArgs(argv)
  } catch (err) {
    if (err instanceof UsageError) fail(EXIT_USAGE, `${err.message}\nRun with --help for usage.`)
    throw err
  }
  if (command === 'help') {
    await new Promise<void>((resolve) => writeStdout(USAGE, () => resolve()))
    return
  }
  if (command.command === 'create-user') {
    if (command.password !== undefined) {
      process.stderr.write('kassa admin: warning: --password shows up in your shell history and in the process list; leave it out to be asked for the password (or pipe it on standard input).\n')
    } else {
      const password = await readPassword(process.stdin, process.stderr).catch((err: Error) => fail(EXIT_USAGE, `create-user: ${err.message}`))
      if (password === '') fail(EXIT_USAGE, 'create-user: no password given (type it at the prompt, or pipe it on standard input)\nRun with --help for usage.')
      command = { ...command, password }
    }
  }

  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) fail(EXIT_CONFIG, err.message)
    throw err
  }

  try {
    const result = await executeAdminCommand(config, command as AdminCommand, { onWait: (m) => process.stderr.write(`kassa admin: ${m}\n`) })
    for (const note of result.notes) process.stderr.write(`kassa admin: note: ${note}\n`)
    await new Promise<void>((resolve) => writeStdout(`${formatOutput(result.output)}\n`, () => resolve()))
  } catch (err) {
    fail(EXIT_FAILED, err instanceof AdminCommandError ? err.message : errorMessage(err).message)
  }
}

main(process.argv.slice(2)).then(
  // PGlite and pg may leave handles behind; the work is done and stdout flushed.
  () => process.exit(0),
  (err) => fail(EXIT_FAILED, err?.stack ?? String(err)),
)
