import { sql, type Kysely } from 'kysely'

// The hosts allowed to frame the organization's checkout (Polar's `organizations.embed_hosts`), normalized
// by the API before they are stored. Empty: no page may embed it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table organizations add column embed_hosts text[] not null default '{}'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table organizations drop column embed_hosts`.execute(db)
}
