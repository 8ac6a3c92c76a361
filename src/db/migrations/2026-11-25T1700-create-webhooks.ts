import { sql, type Kysely } from 'kysely'

// Webhooks: endpoints, the transactional outbox of events, one delivery per event and endpoint (its id is
// the `webhook-id` header, stable across retries), and the log of every attempt.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- A time-ordered UUID (version 7) for rows inserted in bulk by one statement (deliveries, their
    -- jobs), where the application cannot hand out ids in advance.
    create function kassa_uuid_v7(ts timestamptz) returns uuid language sql volatile as $$
      select encode(
        set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
          placing substring(int8send(floor(extract(epoch from ts) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1),
        'hex')::uuid
    $$;

    create table webhook_endpoints (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      url text not null,
      name text,
      format text not null default 'raw' check (format in ('raw')),
      -- Stored in clear: signing needs it (as with every webhook provider). Never shown again after create/reset.
      secret text not null,
      events text[] not null default '{}',
      enabled boolean not null default true,
      -- events whose every attempt failed, in a row; 10 disables the endpoint, a success resets it
      consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
      created_at timestamptz not null,
      modified_at timestamptz,
      deleted_at timestamptz
    );
    create index webhook_endpoints_organization_id_idx on webhook_endpoints (organization_id, created_at) where deleted_at is null;

    -- The outbox: written in the transaction of the change, only when some endpoint subscribes.
    create table webhook_events (
      id uuid primary key,
      organization_id uuid not null references organizations (id),
      type text not null,
      -- the exact JSON body sent (text, not jsonb, so every attempt sends and signs the same bytes)
      payload text not null,
      created_at timestamptz not null
    );

    create table webhook_deliveries (
      id uuid primary key,
      event_id uuid not null references webhook_events (id),
      endpoint_id uuid not null references webhook_endpoints (id),
      organization_id uuid not null references organizations (id),
      status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed', 'skipped')),
      attempts integer not null default 0,
      last_http_code integer,
      created_at timestamptz not null,
      modified_at timestamptz,
      constraint webhook_deliveries_event_endpoint_key unique (event_id, endpoint_id)
    );
    create index webhook_deliveries_endpoint_id_idx on webhook_deliveries (endpoint_id, created_at);

    create table webhook_delivery_attempts (
      id uuid primary key,
      delivery_id uuid not null references webhook_deliveries (id),
      endpoint_id uuid not null references webhook_endpoints (id),
      attempt integer not null check (attempt >= 1),
      succeeded boolean not null,
      http_code integer,
      duration_ms integer not null check (duration_ms >= 0),
      response text,
      error text,
      created_at timestamptz not null
    );
    create index webhook_delivery_attempts_endpoint_id_idx on webhook_delivery_attempts (endpoint_id, created_at);
    create index webhook_delivery_attempts_delivery_id_idx on webhook_delivery_attempts (delivery_id);
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table webhook_delivery_attempts; drop table webhook_deliveries; drop table webhook_events;
    drop table webhook_endpoints; drop function kassa_uuid_v7(timestamptz);
  `.execute(db)
}
