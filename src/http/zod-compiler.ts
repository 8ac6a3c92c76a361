import type { FastifySchemaCompiler } from 'fastify'
import type { z } from 'zod'
import { RequestValidationError } from './errors'
import { toValidationIssues } from './validation'

const locations = { body: 'body', querystring: 'query', params: 'path', headers: 'header' } as const

/** Validates a request part with its Zod schema; failures become Polar-style 422s. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const loc = locations[(httpPart ?? 'body') as keyof typeof locations] ?? 'body'
  return (data: unknown) => {
    const result = schema.safeParse(data)
    if (result.success) return { value: result.data }
    return { error: new RequestValidationError(toValidationIssues(result.error, loc, data)) as unknown as Error }
  }
}
