import { sql, type SelectQueryBuilder } from 'kysely'

/** Translates Postgres' unique-violation into `undefined` so repositories can name the conflict. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; message?: string }
  if (e?.code !== '23505') return false
  return constraint === undefined || e.constraint === constraint || (e.message ?? '').includes(constraint)
}

/**
 * Postgres' foreign-key violation: a row refers to one deleted meanwhile (a product deleted while a
 * session offering it was being opened, say), which the check before the write could not see.
 */
export function isForeignKeyViolation(err: unknown, constraints?: readonly string[]): boolean {
  const e = err as { code?: string; constraint?: string; message?: string } | undefined
  if (e?.code !== '23503') return false
  return constraints === undefined || constraints.some((c) => e.constraint === c || (e.message ?? '').includes(`"${c}"`))
}

/**
 * Postgres' deadlock_detected: two transactions took the same rows' locks in opposite orders and one was
 * cancelled. A product delete (its row, then its prices) against a session insert whose foreign-key checks
 * lock the price before the product is one such pair; the cancelled side answers as if it came second.
 */
export function isDeadlock(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === '40P01'
}

/** Polar's metadata filter (`get_metadata_clause`): every key given, with its value as text one of the values. */
export function whereMetadata<DB, TB extends keyof DB, O>(
  q: SelectQueryBuilder<DB, TB, O>,
  filter: Record<string, string[]> | undefined,
): SelectQueryBuilder<DB, TB, O> {
  if (!filter) return q
  for (const [key, values] of Object.entries(filter)) {
    q = q.where(sql<string>`${sql.ref('metadata')} ->> ${key}`, 'in', values) as typeof q
  }
  return q
}

/**
 * Applies `?sorting=` (already validated against `columns`) and a stable tiebreak on `id`.
 * `columns` maps each public sort property to a column or SQL expression.
 */
export function applySorting<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  sorting: string[],
  columns: Record<string, string | ReturnType<typeof sql>>,
): SelectQueryBuilder<DB, TB, O> {
  let q = qb
  for (const s of sorting) {
    const desc = s.startsWith('-')
    const col = columns[desc ? s.slice(1) : s]
    if (col === undefined) continue
    const expr = typeof col === 'string' ? sql.ref(col) : col
    q = q.orderBy(expr as never, desc ? 'desc' : 'asc')
  }
  return q.orderBy(sql.ref('id') as never, 'asc')
}

/** One page of rows plus the total count of the filtered query. */
/** A page of a list: 1-based page number and page size (the API's `page`/`limit`). */
export interface Page {
  page: number
  limit: number
}

export async function fetchPage<DB, TB extends keyof DB, O>(
  filtered: SelectQueryBuilder<DB, TB, O>,
  select: (qb: SelectQueryBuilder<DB, TB, O>) => SelectQueryBuilder<DB, TB, any>,
  page: Page,
): Promise<{ rows: any[]; total: number }> {
  const [countRow, rows] = await Promise.all([
    filtered.select(sql<number>`count(*)::int`.as('total')).executeTakeFirst() as Promise<{ total: number } | undefined>,
    select(filtered).limit(page.limit).offset((page.page - 1) * page.limit).execute(),
  ])
  return { rows, total: Number(countRow?.total ?? 0) }
}

/** `%` and `_` in user search text match literally. */
export const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** A UUID as PostgreSQL reads one (anything else in a uuid comparison is an error there, a 500 for us). */
export const isUuid = (v: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)
