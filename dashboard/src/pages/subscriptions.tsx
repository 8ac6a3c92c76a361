import { useState } from 'react'
import { Alert, Badge, ConfirmDialog, EmptyState, Field, LoadError, Pagination, Spinner } from '../components/ui'
import { api, type Page } from '../lib/api'
import { date, dateTime, money } from '../lib/format'
import { useAsync, useList } from '../lib/hooks'
import { Link, useTitle } from '../lib/router'
import { BILLING_REASON, CANCELLATION_REASON, ORDER_STATUS, perInterval, SUBSCRIPTION_STATUS } from '../lib/status'
import type { CancellationReason, Order, Subscription } from '../lib/types'
import { PageHeader } from './layout'

const amountText = (s: Pick<Subscription, 'amount' | 'currency' | 'recurring_interval' | 'recurring_interval_count'>) =>
  `${money(s.amount, s.currency)} ${perInterval(s.recurring_interval, s.recurring_interval_count)}`

/** Still running (it may be set to end at the period's end). */
const isLive = (s: Subscription) => !s.ended_at && s.status !== 'canceled' && s.status !== 'incomplete_expired'

export function SubscriptionBadges({ subscription: s }: { subscription: Subscription }) {
  const status = SUBSCRIPTION_STATUS[s.status] ?? { label: s.status, tone: 'neutral' as const }
  return (
    <span className="badge-row" data-testid="subscription-badges">
      <Badge tone={status.tone}>{status.label}</Badge>
      {s.cancel_at_period_end && isLive(s) && <Badge tone="warning">Ends {date(s.ends_at ?? s.current_period_end)}</Badge>}
    </span>
  )
}

export function SubscriptionsList() {
  useTitle('Subscriptions')
  const list = useList<Subscription>('/v1/subscriptions/')
  return (
    <>
      <h1 className="section-title">Subscriptions</h1>
      {list.error && <LoadError error={list.error} retry={list.reload} />}
      {!list.data && list.loading && <Spinner />}
      {list.data && list.data.items.length === 0 && <EmptyState title="No subscriptions yet">Subscriptions appear here when a checkout for a recurring product is paid.</EmptyState>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Subscriptions</caption>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col">Product</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Renews or ends</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link to={`/subscriptions/${s.id}`} data-testid="subscription-link">
                      {s.customer.email}
                    </Link>
                    {s.customer.name && <div className="muted small">{s.customer.name}</div>}
                  </td>
                  <td>{s.product.name}</td>
                  <td>
                    <SubscriptionBadges subscription={s} />
                  </td>
                  <td className="num">{amountText(s)}</td>
                  <td>{s.ended_at ? `Ended ${date(s.ended_at)}` : s.cancel_at_period_end ? `Ends ${date(s.ends_at ?? s.current_period_end)}` : `Renews ${date(s.current_period_end)}`}</td>
                  <td>{date(s.started_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && <Pagination page={list.page} maxPage={list.data.pagination.max_page} total={list.data.pagination.total_count} onPage={list.setPage} />}
    </>
  )
}

type Action = 'cancel' | 'uncancel' | 'revoke'

export function SubscriptionDetail({ id }: { id: string }) {
  const sub = useAsync((signal) => api.get<Subscription>(`/v1/subscriptions/${id}`, undefined, signal), id)
  const [fresh, setFresh] = useState<Subscription | null>(null)
  const s = fresh && fresh.id === id ? fresh : sub.data
  useTitle(s ? `Subscription · ${s.customer.email}` : 'Subscription')
  const back = { to: '/subscriptions', label: 'Subscriptions' }
  if (sub.error && !s) {
    return (
      <>
        <PageHeader title="Subscription" back={back} />
        <LoadError error={sub.error} retry={sub.reload} />
      </>
    )
  }
  if (!s) return <Spinner />
  return (
    <>
      <PageHeader
        title={
          <>
            {s.product.name} <span className="muted">· {s.customer.email}</span>
          </>
        }
        back={back}
      />
      <p className="badge-line">
        <SubscriptionBadges subscription={s} />
      </p>
      <SubscriptionSummary s={s} />
      <SubscriptionActions s={s} onChanged={setFresh} />
      <h3 className="section-heading">Orders</h3>
      <SubscriptionOrders id={s.id} version={`${s.cancel_at_period_end}:${s.ended_at ?? ''}`} />
    </>
  )
}

function SubscriptionSummary({ s }: { s: Subscription }) {
  const live = isLive(s)
  return (
    <dl className="summary" data-testid="subscription-summary">
      <div>
        <dt>Amount</dt>
        <dd>{amountText(s)}</dd>
      </div>
      <div>
        <dt>Customer</dt>
        <dd>
          {s.customer.email}
          {s.customer.name && <div className="muted small">{s.customer.name}</div>}
        </dd>
      </div>
      <div>
        <dt>Current period</dt>
        <dd>
          {date(s.current_period_start)} – {date(s.current_period_end)}
        </dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>{date(s.started_at)}</dd>
      </div>
      {s.trial_end && (
        <div>
          <dt>Trial</dt>
          <dd>
            {date(s.trial_start)} – {date(s.trial_end)}
          </dd>
        </div>
      )}
      <div>
        <dt>{live && !s.cancel_at_period_end ? 'Renews' : 'Ends'}</dt>
        <dd data-testid="subscription-ends">{live && !s.cancel_at_period_end ? date(s.current_period_end) : date(s.ends_at)}</dd>
      </div>
      <div>
        <dt>Ended</dt>
        <dd data-testid="subscription-ended">{date(s.ended_at)}</dd>
      </div>
      {s.canceled_at && (
        <div>
          <dt>Canceled</dt>
          <dd>{dateTime(s.canceled_at)}</dd>
        </div>
      )}
      <div>
        <dt>Cancellation reason</dt>
        <dd data-testid="subscription-reason">
          {s.customer_cancellation_reason ? CANCELLATION_REASON[s.customer_cancellation_reason] ?? s.customer_cancellation_reason : '—'}
          {s.customer_cancellation_comment && <div className="muted small">“{s.customer_cancellation_comment}”</div>}
        </dd>
      </div>
      {s.discount && (
        <div>
          <dt>Discount</dt>
          <dd>{s.discount.name}</dd>
        </div>
      )}
      <div>
        <dt>Subscription ID</dt>
        <dd>
          <code className="small">{s.id}</code>
        </dd>
      </div>
    </dl>
  )
}

function SubscriptionActions({ s, onChanged }: { s: Subscription; onChanged: (s: Subscription) => void }) {
  const [action, setAction] = useState<Action | null>(null)
  const [reason, setReason] = useState<CancellationReason | ''>('')
  const [comment, setComment] = useState('')
  const [done, setDone] = useState<string | null>(null)
  if (!isLive(s)) {
    return (
      <section className="card" aria-labelledby="sub-actions-title">
        <h3 id="sub-actions-title">Subscription ended</h3>
        <p className="muted">This subscription ended on {date(s.ended_at ?? s.canceled_at)}; the customer no longer has access.</p>
        {done && <Alert kind="success">{done}</Alert>}
      </section>
    )
  }
  const run = async (body: Record<string, unknown>, message: string) => {
    const next = await api.patch<Subscription>(`/v1/subscriptions/${s.id}`, body)
    setAction(null)
    setDone(message)
    onChanged(next)
  }
  const reasonBody = () => ({ customer_cancellation_reason: reason || undefined, customer_cancellation_comment: comment.trim() || undefined })
  const reasonFields = (
    <>
      <Field label="Reason (optional)">
        {(c) => (
          <select {...c} value={reason} onChange={(e) => setReason(e.target.value as CancellationReason | '')}>
            <option value="">No reason given</option>
            {Object.entries(CANCELLATION_REASON).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Comment (optional)">{(c) => <textarea {...c} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />}</Field>
    </>
  )
  return (
    <section className="card" aria-labelledby="sub-actions-title">
      <h3 id="sub-actions-title">Manage subscription</h3>
      {done && <Alert kind="success">{done}</Alert>}
      <div className="button-row">
        {s.cancel_at_period_end ? (
          <button type="button" className="btn" onClick={() => setAction('uncancel')}>
            Undo cancellation
          </button>
        ) : (
          <button type="button" className="btn" onClick={() => setAction('cancel')}>
            Cancel at period end
          </button>
        )}
        <button type="button" className="btn btn-danger-outline" onClick={() => setAction('revoke')}>
          Revoke now
        </button>
      </div>
      <p className="muted small">
        {s.cancel_at_period_end
          ? `Set to end on ${date(s.ends_at ?? s.current_period_end)}: it will not renew.`
          : `Renews on ${date(s.current_period_end)} for ${amountText(s)}.`}
      </p>

      <ConfirmDialog
        open={action === 'cancel'}
        title="Cancel at the end of the period?"
        confirmLabel="Cancel at period end"
        onClose={() => setAction(null)}
        onConfirm={() => run({ cancel_at_period_end: true, ...reasonBody() }, `Canceled: it ends on ${date(s.current_period_end)}.`)}
      >
        <p>
          The customer keeps access until <strong>{date(s.current_period_end)}</strong>, then the subscription ends and is not renewed. You can undo this until then.
        </p>
        {reasonFields}
      </ConfirmDialog>
      <ConfirmDialog
        open={action === 'uncancel'}
        title="Undo the cancellation?"
        confirmLabel="Undo cancellation"
        onClose={() => setAction(null)}
        onConfirm={() => run({ cancel_at_period_end: false }, `The subscription renews again on ${date(s.current_period_end)}.`)}
      >
        <p>
          The subscription renews on <strong>{date(s.current_period_end)}</strong> for {amountText(s)}, as before.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={action === 'revoke'}
        title="Revoke this subscription now?"
        confirmLabel="Revoke now"
        danger
        onClose={() => setAction(null)}
        onConfirm={() => run({ revoke: true, ...reasonBody() }, 'The subscription was revoked.')}
      >
        <p>
          <strong>This ends the customer’s access immediately</strong>, before the period they paid for is over. No refund is made: refund the order separately if you
          want to. This cannot be undone.
        </p>
        {reasonFields}
      </ConfirmDialog>
    </section>
  )
}

function SubscriptionOrders({ id, version }: { id: string; version: string }) {
  const orders = useAsync((signal) => api.get<Page<Order>>('/v1/orders/', { subscription_id: id, limit: 100, sorting: '-created_at' }, signal), `${id}:${version}`)
  if (orders.error) return <LoadError error={orders.error} retry={orders.reload} />
  if (!orders.data) return <Spinner />
  if (!orders.data.items.length) return <EmptyState title="No orders yet" />
  return (
    <div className="table-wrap">
      <table className="table" data-testid="subscription-orders">
        <caption className="visually-hidden">Orders of this subscription</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Reason</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Total
            </th>
          </tr>
        </thead>
        <tbody>
          {orders.data.items.map((o) => {
            const st = ORDER_STATUS[o.status] ?? { label: o.status, tone: 'neutral' as const }
            return (
              <tr key={o.id}>
                <td>
                  <Link to={`/orders/${o.id}`}>{dateTime(o.created_at)}</Link>
                </td>
                <td>{BILLING_REASON[o.billing_reason] ?? o.billing_reason}</td>
                <td>
                  <Badge tone={st.tone}>{st.label}</Badge>
                </td>
                <td className="num">{money(o.total_amount, o.currency)}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}
