import { sql, type Kysely } from 'kysely'

// One shared rate limiter for every abuse limit (logins, discount codes, …): one row per attempt and key,
// kept until the longest window of that key has passed. Rows are inserted before they are counted, so
// concurrent attempts from any number of processes cannot slip past a limit. Replaces `login_attempts`.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table rate_limit_attempts (
      attempt_id uuid not null,
      key text not null,
      at timestamptz not null,
      -- when the row counts for no window any more: pruned after that
      expires_at timestamptz not null,
      primary key (attempt_id, key)
    );
    create index rate_limit_attempts_key_at_idx on rate_limit_attempts (key, at);
    create index rate_limit_attempts_expires_at_idx on rate_limit_attempts (expires_at);
    drop table login_attempts;
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create table login_attempts (id uuid primary key, email text not null, ip text not null, created_at timestamptz not null);
    create index login_attempts_email_idx on login_attempts (email, created_at);
    create index login_attempts_ip_idx on login_attempts (ip, created_at);
    create index login_attempts_created_at_idx on login_attempts (created_at);
    drop table rate_limit_attempts;
  `.execute(db)
}
