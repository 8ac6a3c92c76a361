import type { Executor } from '../db/index'
import { applySorting, fetchPage, isUniqueViolation, likePattern } from '../db/helpers'
import type { CustomFieldType, NewRow, Row, RowUpdate } from '../db/types'
import type { Page } from '../http/schemas'

export type CustomFieldRow = Row<'custom_fields'>

export class SlugTaken extends Error {}

const live = (db: Executor, organizationId: string) =>
  db.selectFrom('custom_fields').where('organization_id', '=', organizationId).where('deleted_at', 'is', null)

export async function insertCustomField(db: Executor, row: NewRow<'custom_fields'>): Promise<CustomFieldRow> {
  try {
    return await db.insertInto('custom_fields').values(row).returningAll().executeTakeFirstOrThrow()
  } catch (err) {
    if (isUniqueViolation(err, 'custom_fields_organization_slug_key')) throw new SlugTaken()
    throw err
  }
}

export async function findCustomField(db: Executor, organizationId: string, id: string): Promise<CustomFieldRow | undefined> {
  return live(db, organizationId).selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findCustomFieldsByIds(db: Executor, organizationId: string, ids: string[]): Promise<CustomFieldRow[]> {
  if (ids.length === 0) return []
  return live(db, organizationId).selectAll().where('id', 'in', ids).execute()
}

export async function listCustomFields(
  db: Executor,
  organizationId: string,
  filter: { query?: string; types?: CustomFieldType[]; sorting: string[] },
  page: Page,
) {
  let q = live(db, organizationId)
  if (filter.query) {
    const p = likePattern(filter.query)
    q = q.where((eb) => eb.or([eb('name', 'ilike', p), eb('slug', 'ilike', p)]))
  }
  if (filter.types?.length) q = q.where('type', 'in', filter.types)
  return fetchPage(q, (qb) => applySorting(qb.selectAll(), filter.sorting, { created_at: 'created_at', slug: 'slug', name: 'name', type: 'type' }), page) as Promise<{
    rows: CustomFieldRow[]
    total: number
  }>
}

export async function updateCustomField(db: Executor, organizationId: string, id: string, patch: RowUpdate<'custom_fields'>) {
  try {
    return await db
      .updateTable('custom_fields')
      .set(patch)
      .where('id', '=', id)
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst()
  } catch (err) {
    if (isUniqueViolation(err, 'custom_fields_organization_slug_key')) throw new SlugTaken()
    throw err
  }
}

/** Soft-deletes the field and detaches it from every product. */
export async function deleteCustomField(db: Executor, organizationId: string, id: string, now: Date): Promise<boolean> {
  const deleted = await db
    .updateTable('custom_fields')
    .set({ deleted_at: now })
    .where('id', '=', id)
    .where('organization_id', '=', organizationId)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst()
  if (!deleted) return false
  await db.deleteFrom('product_custom_fields').where('custom_field_id', '=', id).execute()
  return true
}
