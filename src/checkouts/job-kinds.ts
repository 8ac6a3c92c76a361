/** The checkout domain's job kinds (their handlers are in jobs.ts). */
export const SETTLE_JOB = 'checkouts.settle'
export const EXPIRE_JOB = 'checkouts.expire'
export const PRUNE_CHECKOUTS_JOB = 'checkouts.prune'
/** A Stripe attempt left `confirmed`: ask Stripe what became of it (stripe-confirm.ts). */
export const RECONCILE_JOB = 'checkouts.stripe_reconcile'
/** Periodic safety net: Stripe attempts left `confirmed` whose reconciliation has run out get another. */
export const RECONCILE_SWEEP_JOB = 'checkouts.stripe_reconcile_sweep'
