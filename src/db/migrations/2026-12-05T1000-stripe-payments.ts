import { sql, type Kysely } from 'kysely'

// Issue 11, real payments with Stripe:
// - organization_payment_settings: an organization's processor (`sandbox` or `stripe`) and its Stripe keys. The
//   secret key and the webhook signing secret are sealed (AES-256-GCM with ENCRYPTION_KEY, lib/secret-box.ts);
//   only their last four characters are kept in the clear, to show. The publishable key is public by design.
//   No row: the install's default (STRIPE_* environment variables, else the sandbox).
// - checkouts: `livemode` (made with a live key), the processor that took the payment, the Stripe intent of
//   the current confirm attempt (`payment_intent_id`, a PaymentIntent or a SetupIntent), `payment_attempt`
//   (each confirm's idempotency key is the session id and this number), what the page needs to finish a
//   payment (`payment_processor_metadata`: client secret and status of an intent that requires action), and
//   the Stripe Customer and payment method to save on the customer and the subscription at settlement.
// - customers.stripe_customer_id, subscriptions.payment_method_id: what renewals charge off-session.
// - orders: `livemode`, the Stripe intent and charge that paid it, the amounts refunded (a refund made in
//   Stripe's dashboard arrives as `charge.refunded`), and a dispute (`charge.dispute.created`).
// - stripe_events: every Stripe webhook event handled, by organization and Stripe's event id, so a delivery
//   repeated by Stripe, or delivered to two processes, is handled once.
// - checkouts_confirmed_idx: reconciliation walks the sessions left `confirmed` by age.
// - organization_payment_settings joins the link-config notifications (2026-12-04T1500): a visit stamps its new
//   session with the organization's processor and key mode from the cached link entry.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table organization_payment_settings (
      organization_id uuid primary key references organizations (id) on delete cascade,
      processor text not null check (processor in ('sandbox', 'stripe')),
      stripe_secret_key_sealed text,
      stripe_secret_key_last4 text,
      stripe_publishable_key text,
      stripe_webhook_secret_sealed text,
      stripe_webhook_secret_last4 text,
      livemode boolean not null default false,
      created_at timestamptz not null,
      modified_at timestamptz
    );
    alter table checkouts
      add column livemode boolean not null default false,
      add column processor text not null default 'sandbox',
      add column payment_intent_id text,
      add column payment_attempt integer not null default 0,
      add column payment_processor_metadata jsonb not null default '{}',
      add column stripe_customer_id text,
      add column payment_method_id text;
    create index checkouts_confirmed_idx on checkouts (confirmed_at) where status = 'confirmed';
    create index checkouts_payment_intent_idx on checkouts (payment_intent_id) where payment_intent_id is not null;
    alter table customers add column stripe_customer_id text;
    alter table subscriptions add column payment_method_id text;
    alter table orders
      add column livemode boolean not null default false,
      add column payment_intent_id text,
      add column stripe_charge_id text,
      add column refunded_amount integer not null default 0,
      add column refunded_tax_amount integer not null default 0,
      add column dispute_id text,
      add column dispute_status text,
      add column dispute_amount integer,
      add column dispute_reason text,
      add column disputed_at timestamptz;
    create index orders_payment_intent_idx on orders (payment_intent_id) where payment_intent_id is not null;
    create index orders_stripe_charge_idx on orders (stripe_charge_id) where stripe_charge_id is not null;
    create table stripe_events (
      organization_id uuid not null references organizations (id) on delete cascade,
      id text not null,
      type text not null,
      livemode boolean not null,
      received_at timestamptz not null,
      primary key (organization_id, id)
    );
    create trigger kassa_link_config_notify after insert or update or delete on organization_payment_settings
      for each row execute function kassa_link_config_notify();
    create trigger kassa_link_config_notify_truncate after truncate on organization_payment_settings
      for each statement execute function kassa_link_config_notify();
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table stripe_events;
    drop index orders_stripe_charge_idx;
    drop index orders_payment_intent_idx;
    alter table orders drop column livemode, drop column payment_intent_id, drop column stripe_charge_id,
      drop column refunded_amount, drop column refunded_tax_amount, drop column dispute_id, drop column dispute_status,
      drop column dispute_amount, drop column dispute_reason, drop column disputed_at;
    alter table subscriptions drop column payment_method_id;
    alter table customers drop column stripe_customer_id;
    drop index checkouts_payment_intent_idx;
    drop index checkouts_confirmed_idx;
    alter table checkouts drop column livemode, drop column processor, drop column payment_intent_id,
      drop column payment_attempt, drop column payment_processor_metadata, drop column stripe_customer_id,
      drop column payment_method_id;
    drop table organization_payment_settings;
  `.execute(db)
}
