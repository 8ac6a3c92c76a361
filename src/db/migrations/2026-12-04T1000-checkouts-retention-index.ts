import { sql, type Kysely } from 'kysely'

// Checkout retention (CHECKOUT_RETENTION_DAYS) looks for expired sessions by `expires_at`: an index of those
// only, so the hourly prune is an index range scan, not a pass over every session. Open sessions past their
// expiry are already found through `checkouts_open_expires_at_idx`; a new (open) session is not in this
// index, so the insert on the hot path pays nothing for it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index checkouts_expired_expires_at_idx on checkouts (expires_at) where status = 'expired'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index checkouts_expired_expires_at_idx`.execute(db)
}
