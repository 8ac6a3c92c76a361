import { sql, type Kysely } from 'kysely'

// Dashboard sessions (the `kassa_session` cookie), failed-login bookkeeping for rate limiting, and the
// `modified_at` that Polar's OrganizationAccessToken carries.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table user_sessions (
      id uuid primary key,
      user_id uuid not null references users (id),
      -- sha256 of the cookie's random token; the token itself is never stored
      token_hash text not null,
      -- the organization the dashboard currently acts on (one of the user's)
      organization_id uuid not null references organizations (id),
      created_at timestamptz not null,
      expires_at timestamptz not null,
      revoked_at timestamptz,
      user_agent text,
      ip text,
      constraint user_sessions_token_hash_key unique (token_hash)
    );
    create index user_sessions_user_id_idx on user_sessions (user_id);

    -- One row per login attempt not known to have succeeded, kept 15 minutes: rows are inserted before the
    -- password is checked and counted after, so concurrent attempts (across processes) cannot slip past the limit.
    create table login_attempts (
      id uuid primary key,
      email text not null,
      ip text not null,
      created_at timestamptz not null
    );
    create index login_attempts_email_idx on login_attempts (email, created_at);
    create index login_attempts_ip_idx on login_attempts (ip, created_at);
    create index login_attempts_created_at_idx on login_attempts (created_at);

    alter table access_tokens add column modified_at timestamptz;
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table access_tokens drop column modified_at;
    drop table login_attempts; drop table user_sessions;
  `.execute(db)
}
