import { sql, type Kysely } from 'kysely'

// Every link visit is counted by kind (issue 10): in memory on the visit, flushed every few seconds as one
// upsert per process (src/checkouts/visit-counts.ts). One row per link, UTC day and utm triple; '' stands
// for "no utm". No foreign key: the counts outlive the link and the sessions they describe (retention
// deletes those), and the flush must never fail because a link was deleted a moment before.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table link_visit_counts (
      checkout_link_id uuid not null,
      organization_id uuid not null,
      day date not null,
      utm_source text not null default '',
      utm_medium text not null default '',
      utm_campaign text not null default '',
      visits bigint not null default 0,
      previews bigint not null default 0,
      prefetches bigint not null default 0,
      sessions_opened bigint not null default 0,
      sessions_reused bigint not null default 0,
      visits_limited bigint not null default 0,
      primary key (checkout_link_id, day, utm_source, utm_medium, utm_campaign)
    )`.execute(db)
  await sql`create index link_visit_counts_organization_day_idx on link_visit_counts (organization_id, day)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table link_visit_counts`.execute(db)
}
