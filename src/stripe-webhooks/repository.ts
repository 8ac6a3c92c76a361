import type { Executor } from '../db/index'
import type { NewRow } from '../db/types'

/** Records a Stripe event as handled; false when it was already (a repeated delivery, or another process's). */
export async function insertEventOnce(db: Executor, row: NewRow<'stripe_events'>): Promise<boolean> {
  const res = await db.insertInto('stripe_events').values(row).onConflict((oc) => oc.columns(['organization_id', 'id']).doNothing()).executeTakeFirst()
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0
}
