import { sql, type Kysely } from 'kysely'

// Payments first (issue 10): the worker runs lanes of job kinds, each claiming only its own kinds, and a lane
// may cap how many jobs of one `concurrency_key` run at once (webhook deliveries: per endpoint).
// - `concurrency_key`: null for every job that has no cap (settlement, expiry, maintenance).
// - `jobs_kind_due_idx`: a lane claims `kind = any(…)` in `run_at` order; without it, the settlement lane
//   would walk past every due delivery of a backlog on each poll.
// - `jobs_running_key_idx`: the claim counts the jobs of a key still locked; only unfinished keyed jobs are in it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table jobs add column concurrency_key text;
    create index jobs_kind_due_idx on jobs (kind, run_at) where finished_at is null;
    create index jobs_running_key_idx on jobs (concurrency_key, locked_until) where finished_at is null and concurrency_key is not null;
    update jobs set concurrency_key = 'webhook-endpoint:' || d.endpoint_id
      from webhook_deliveries d
      where jobs.kind = 'webhooks.deliver' and jobs.finished_at is null and d.id::text = jobs.payload->>'delivery_id';
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index jobs_running_key_idx;
    drop index jobs_kind_due_idx;
    alter table jobs drop column concurrency_key;
  `.execute(db)
}
