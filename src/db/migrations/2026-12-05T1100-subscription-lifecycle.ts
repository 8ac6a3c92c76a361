import { sql, type Kysely } from 'kysely'

// Issue 12, life after the sale:
// - subscriptions: cancellation (Polar's `cancel_at_period_end`, `canceled_at`, `ends_at`, `ended_at`, the
//   customer's reason and comment), dunning (`past_due_at`, `renewal_failures`, `next_renewal_attempt_at`: when
//   the failed renewal is tried again), and the index the renewal scheduler walks (due, still live).
// - orders: `next_payment_attempt_at` (Polar's field: when a failed renewal order is charged again) and
//   `payment_failures`; a renewal order is unique per subscription and period, so two workers can never
//   cycle the same period twice; the scheduler finds the failed renewals due again by `orders_payment_retry_idx`.
// - refunds: Polar's refunds (`POST /v1/refunds/`), made through the processor or recorded from it
//   (`processor_refund_id`, unique per organization: Stripe's `re_…`, so `charge.refunded` records each once).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table subscriptions
      add column cancel_at_period_end boolean not null default false,
      add column canceled_at timestamptz,
      add column ends_at timestamptz,
      add column ended_at timestamptz,
      add column past_due_at timestamptz,
      add column customer_cancellation_reason text,
      add column customer_cancellation_comment text,
      add column renewal_failures integer not null default 0,
      add column next_renewal_attempt_at timestamptz;
    create index subscriptions_due_idx on subscriptions (current_period_end) where status in ('active', 'trialing', 'past_due');
    alter table orders
      add column next_payment_attempt_at timestamptz,
      add column payment_failures integer not null default 0;
    create unique index orders_subscription_period_key on orders (subscription_id, period_start) where billing_reason = 'subscription_cycle';
    create index orders_payment_retry_idx on orders (next_payment_attempt_at) where status = 'pending' and next_payment_attempt_at is not null;
    create table refunds (
      id uuid primary key,
      organization_id uuid not null references organizations (id) on delete cascade,
      order_id uuid not null references orders (id) on delete cascade,
      subscription_id uuid references subscriptions (id) on delete set null,
      customer_id uuid not null references customers (id) on delete cascade,
      status text not null check (status in ('pending', 'succeeded', 'failed', 'canceled')),
      reason text not null,
      amount integer not null check (amount > 0),
      tax_amount integer not null default 0 check (tax_amount >= 0),
      currency text not null,
      comment text,
      metadata jsonb not null default '{}',
      revoke_benefits boolean not null default false,
      processor text not null default 'sandbox',
      processor_refund_id text,
      failure_reason text,
      created_at timestamptz not null,
      modified_at timestamptz
    );
    create index refunds_organization_created_idx on refunds (organization_id, created_at desc);
    create index refunds_order_idx on refunds (order_id);
    create unique index refunds_processor_refund_key on refunds (organization_id, processor_refund_id) where processor_refund_id is not null;
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table refunds;
    drop index orders_payment_retry_idx;
    drop index orders_subscription_period_key;
    alter table orders drop column next_payment_attempt_at, drop column payment_failures;
    drop index subscriptions_due_idx;
    alter table subscriptions drop column cancel_at_period_end, drop column canceled_at, drop column ends_at,
      drop column ended_at, drop column past_due_at, drop column customer_cancellation_reason,
      drop column customer_cancellation_comment, drop column renewal_failures, drop column next_renewal_attempt_at;
  `.execute(db)
}
