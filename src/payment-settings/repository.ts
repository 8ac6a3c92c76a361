import type { Executor } from '../db/index'
import type { NewRow, Row } from '../db/types'

export type PaymentSettingsRow = Row<'organization_payment_settings'>

export async function findPaymentSettings(db: Executor, organizationId: string): Promise<PaymentSettingsRow | undefined> {
  return db.selectFrom('organization_payment_settings').selectAll().where('organization_id', '=', organizationId).executeTakeFirst()
}

export async function upsertPaymentSettings(db: Executor, row: NewRow<'organization_payment_settings'>): Promise<PaymentSettingsRow> {
  const { organization_id: _id, created_at: _c, ...update } = row
  return db
    .insertInto('organization_payment_settings')
    .values(row)
    .onConflict((oc) => oc.column('organization_id').doUpdateSet({ ...update, modified_at: row.modified_at ?? row.created_at }))
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** Whether any organization has Stripe secrets stored (start-up refuses to run without ENCRYPTION_KEY then). */
export async function anySealedSecrets(db: Executor): Promise<PaymentSettingsRow | undefined> {
  return db.selectFrom('organization_payment_settings').selectAll().where('stripe_secret_key_sealed', 'is not', null).limit(1).executeTakeFirst()
}

/** The row locked for the rest of the transaction: two concurrent updates apply one after the other. */
export async function findPaymentSettingsForUpdate(db: Executor, organizationId: string): Promise<PaymentSettingsRow | undefined> {
  return db.selectFrom('organization_payment_settings').selectAll().where('organization_id', '=', organizationId).forUpdate().executeTakeFirst()
}
