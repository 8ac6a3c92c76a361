import { z } from 'zod'
import {
  MetadataInput,
  MetadataOutput,
  NullableTimestamp,
  Timestamp,
  Uuid,
  listOf,
  paginationQuery,
  sortingQuery,
  stringList,
} from '../http/schemas'

export const CustomFieldType = z.enum(['text', 'number', 'date', 'checkbox', 'select'])

const formProps = {
  form_label: z.string().min(1).max(256).optional().describe('Label shown on the checkout form (defaults to the name).'),
  form_help_text: z.string().min(1).max(1000).optional().describe('Help text shown under the field.'),
  form_placeholder: z.string().min(1).max(256).optional().describe('Placeholder of the input.'),
}

export const CustomFieldTextProperties = z.object({
  ...formProps,
  textarea: z.boolean().optional().describe('Show a multi-line text area.'),
  min_length: z.number().int().min(0).optional(),
  max_length: z.number().int().min(0).optional(),
})
export const CustomFieldNumberProperties = z.object({ ...formProps, ge: z.number().int().optional(), le: z.number().int().optional() })
export const CustomFieldDateProperties = z.object({
  ...formProps,
  ge: z.number().int().optional().describe('Earliest date allowed, as a Unix timestamp.'),
  le: z.number().int().optional().describe('Latest date allowed, as a Unix timestamp.'),
})
export const CustomFieldCheckboxProperties = z.object(formProps)
export const CustomFieldSelectOption = z.object({ value: z.string().min(1).max(256), label: z.string().min(1).max(256) })
export const CustomFieldSelectProperties = z.object({ ...formProps, options: z.array(CustomFieldSelectOption).min(1).max(100) })

const Slug = z
  .string()
  .min(1)
  .max(100, { abort: true })
  .regex(/^[a-z0-9_-]+$/, 'Slug must be lowercase letters, digits, dashes and underscores')
  .describe('Identifier of the field in `custom_field_data` (unique in the organization).')
const Name = z.string().trim().min(1).max(256).describe('Name of the custom field.')

const createBase = {
  slug: Slug,
  name: Name,
  metadata: MetadataInput.default({}),
  organization_id: Uuid.nullish().describe('The organization; implied by an organization token.'),
}

export const CustomFieldCreate = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('text'), ...createBase, properties: CustomFieldTextProperties }),
    z.object({ type: z.literal('number'), ...createBase, properties: CustomFieldNumberProperties }),
    z.object({ type: z.literal('date'), ...createBase, properties: CustomFieldDateProperties }),
    z.object({ type: z.literal('checkbox'), ...createBase, properties: CustomFieldCheckboxProperties }),
    z.object({ type: z.literal('select'), ...createBase, properties: CustomFieldSelectProperties }),
  ])
  .describe('Create a custom field.')
export type CustomFieldCreate = z.infer<typeof CustomFieldCreate>

const updateBase = { slug: Slug.nullish(), name: Name.nullish(), metadata: MetadataInput.optional() }

export const CustomFieldUpdate = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('text'), ...updateBase, properties: CustomFieldTextProperties.nullish() }),
    z.object({ type: z.literal('number'), ...updateBase, properties: CustomFieldNumberProperties.nullish() }),
    z.object({ type: z.literal('date'), ...updateBase, properties: CustomFieldDateProperties.nullish() }),
    z.object({ type: z.literal('checkbox'), ...updateBase, properties: CustomFieldCheckboxProperties.nullish() }),
    z.object({ type: z.literal('select'), ...updateBase, properties: CustomFieldSelectProperties.nullish() }),
  ])
  .describe("Update a custom field. `type` must be the field's current type (it cannot change); other keys are optional.")
export type CustomFieldUpdate = z.infer<typeof CustomFieldUpdate>

const responseBase = {
  id: Uuid,
  created_at: Timestamp,
  modified_at: NullableTimestamp,
  metadata: MetadataOutput,
  slug: z.string(),
  name: z.string(),
  organization_id: Uuid,
}

export const CustomField = z.union([
  z.object({ ...responseBase, type: z.literal('text'), properties: CustomFieldTextProperties }),
  z.object({ ...responseBase, type: z.literal('number'), properties: CustomFieldNumberProperties }),
  z.object({ ...responseBase, type: z.literal('date'), properties: CustomFieldDateProperties }),
  z.object({ ...responseBase, type: z.literal('checkbox'), properties: CustomFieldCheckboxProperties }),
  z.object({ ...responseBase, type: z.literal('select'), properties: CustomFieldSelectProperties }),
])
export type CustomField = z.infer<typeof CustomField>

export const CustomFieldList = listOf(CustomField)

export const CustomFieldListQuery = z.object({
  organization_id: stringList(Uuid).optional().describe('Filter by organization ID.'),
  query: z.string().max(256).optional().describe('Filter by custom field name or slug.'),
  type: stringList(CustomFieldType).optional().describe('Filter by type.'),
  ...paginationQuery,
  sorting: sortingQuery(['created_at', 'slug', 'name', 'type'], 'slug'),
})
export type CustomFieldListQuery = z.infer<typeof CustomFieldListQuery>

export const CustomFieldIdParams = z.object({ id: Uuid.describe('The custom field ID.') })
