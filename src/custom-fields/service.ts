import type { Deps } from '../deps'
import { ResourceNotFound, fieldError } from '../http/errors'
import { iso, isoOrNull, paginated, type Page } from '../http/schemas'
import { newId } from '../lib/ids'
import { assertOwnOrganization, type AuthContext } from '../organizations/service'
import * as repo from './repository'
import type { CustomField, CustomFieldCreate, CustomFieldListQuery, CustomFieldUpdate } from './schemas'

type D = Pick<Deps, 'db' | 'clock'>

export function toCustomField(row: repo.CustomFieldRow): CustomField {
  return {
    id: row.id,
    created_at: iso(row.created_at),
    modified_at: isoOrNull(row.modified_at),
    metadata: row.metadata,
    type: row.type,
    slug: row.slug,
    name: row.name,
    organization_id: row.organization_id,
    properties: row.properties,
  } as CustomField
}

/** Cross-field rules pydantic cannot express in a type: bounds in order, select values unique. */
function checkProperties(type: CustomField['type'], props: Record<string, unknown>): void {
  const loc = ['body', 'properties']
  const pair = (lo: string, hi: string) => {
    const a = props[lo]
    const b = props[hi]
    if (typeof a === 'number' && typeof b === 'number' && a > b) throw fieldError([...loc, lo], `${lo} must be less than or equal to ${hi}.`, a)
  }
  if (type === 'text') pair('min_length', 'max_length')
  if (type === 'number' || type === 'date') pair('ge', 'le')
  if (type === 'select') {
    const values = (props.options as { value: string }[]).map((o) => o.value)
    const dup = values.find((v, i) => values.indexOf(v) !== i)
    if (dup !== undefined) throw fieldError([...loc, 'options'], `Option values must be unique: "${dup}" appears twice.`, dup)
  }
}

const slugTaken = (slug: string) => fieldError(['body', 'slug'], 'Custom field with this slug already exists.', slug)

export async function createCustomField(deps: D, auth: AuthContext, input: CustomFieldCreate): Promise<CustomField> {
  assertOwnOrganization(auth, input.organization_id)
  checkProperties(input.type, input.properties)
  try {
    const row = await repo.insertCustomField(deps.db, {
      id: newId(),
      organization_id: auth.organizationId,
      type: input.type,
      slug: input.slug,
      name: input.name,
      properties: JSON.stringify(input.properties),
      metadata: JSON.stringify(input.metadata),
      created_at: deps.clock.now(),
    })
    return toCustomField(row)
  } catch (err) {
    if (err instanceof repo.SlugTaken) throw slugTaken(input.slug)
    throw err
  }
}

export async function getCustomFieldOrThrow(deps: Pick<Deps, 'db'>, auth: AuthContext, id: string): Promise<CustomField> {
  const row = await repo.findCustomField(deps.db, auth.organizationId, id)
  if (!row) throw new ResourceNotFound()
  return toCustomField(row)
}

export async function listCustomFields(deps: Pick<Deps, 'db'>, auth: AuthContext, query: CustomFieldListQuery) {
  if (query.organization_id && !query.organization_id.includes(auth.organizationId)) return paginated([], 0, query)
  const page: Page = { page: query.page, limit: query.limit }
  const { rows, total } = await repo.listCustomFields(deps.db, auth.organizationId, { query: query.query, types: query.type, sorting: query.sorting }, page)
  return paginated(rows.map(toCustomField), total, page)
}

export async function updateCustomField(deps: D, auth: AuthContext, id: string, input: CustomFieldUpdate): Promise<CustomField> {
  const existing = await repo.findCustomField(deps.db, auth.organizationId, id)
  if (!existing) throw new ResourceNotFound()
  if (input.type !== existing.type) throw fieldError(['body', 'type'], `The type of a custom field cannot change (it is "${existing.type}").`, input.type)
  if (input.properties) checkProperties(existing.type, input.properties)
  try {
    const row = await repo.updateCustomField(deps.db, auth.organizationId, id, {
      ...(input.slug != null ? { slug: input.slug } : {}),
      ...(input.name != null ? { name: input.name } : {}),
      ...(input.properties != null ? { properties: JSON.stringify(input.properties) } : {}),
      ...(input.metadata !== undefined ? { metadata: JSON.stringify(input.metadata) } : {}),
      modified_at: deps.clock.now(),
    })
    if (!row) throw new ResourceNotFound()
    return toCustomField(row)
  } catch (err) {
    if (err instanceof repo.SlugTaken) throw slugTaken(input.slug ?? '')
    throw err
  }
}

export async function deleteCustomField(deps: D, auth: AuthContext, id: string): Promise<void> {
  const deleted = await deps.db.transaction().execute((tx) => repo.deleteCustomField(tx, auth.organizationId, id, deps.clock.now()))
  if (!deleted) throw new ResourceNotFound()
}

/** Live fields of the organization by id (for products attaching them). */
export async function findCustomFieldsByIds(db: Deps['db'], organizationId: string, ids: string[]): Promise<CustomField[]> {
  const rows = await repo.findCustomFieldsByIds(db, organizationId, ids)
  return rows.map(toCustomField)
}
