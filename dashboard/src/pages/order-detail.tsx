import { useRef, useState, type FormEvent } from 'react'
import { Alert, Badge, EmptyState, Field, FormErrorSummary, LoadError, MetadataList, Spinner, focusFirstError } from '../components/ui'
import { api, ApiError, type Page } from '../lib/api'
import { noErrors, toFormErrors, without, type FormErrors } from '../lib/errors'
import { date, dateTime, fromMinor, money, toMinor } from '../lib/format'
import { useAsync } from '../lib/hooks'
import { Link, useTitle } from '../lib/router'
import { BILLING_REASON, ORDER_STATUS, REFUND_REASON, REFUND_STATUS } from '../lib/status'
import type { Order, Refund, RefundReason } from '../lib/types'
import { PageHeader } from './layout'

const MANUAL_REASONS: RefundReason[] = ['customer_request', 'duplicate', 'fraudulent', 'service_disruption', 'satisfaction_guarantee', 'other']

export function OrderDetail({ id }: { id: string }) {
  const [tick, setTick] = useState(0)
  const order = useAsync((signal) => api.get<Order>(`/v1/orders/${id}`, undefined, signal), `${id}:${tick}`)
  const refunds = useAsync((signal) => api.get<Page<Refund>>('/v1/refunds/', { order_id: id, limit: 100, sorting: '-created_at' }, signal), `${id}:${tick}`)
  const o = order.data
  useTitle(o ? `Order · ${o.customer.email}` : 'Order')
  const back = { to: '/orders', label: 'Orders' }
  if (order.error && !o) {
    return (
      <>
        <PageHeader title="Order" back={back} />
        <LoadError error={order.error} retry={order.reload} />
      </>
    )
  }
  if (!o) return <Spinner />
  const status = ORDER_STATUS[o.status] ?? { label: o.status, tone: 'neutral' as const }
  const refundList = refunds.data?.items ?? []
  return (
    <>
      <PageHeader
        title={
          <>
            {o.product?.name ?? o.description} <span className="muted">· {o.customer.email}</span>
          </>
        }
        back={back}
      />
      <p className="badge-line">
        <span className="badge-row">
          <span data-testid="order-status">
            <Badge tone={status.tone}>{status.label}</Badge>
          </span>
          {o.livemode === false && (
            <span data-testid="order-test-mode">
              <Badge tone="info">Test mode</Badge>
            </span>
          )}
        </span>
      </p>
      {o.dispute && (
        <div className="alert alert-warning" role="status" data-testid="order-dispute">
          <strong>This payment is disputed.</strong> The customer’s bank opened a dispute ({o.dispute.reason ?? 'no reason given'}) for{' '}
          {money(o.dispute.amount, o.currency)} on {date(o.dispute.created_at)}; its status is <strong>{o.dispute.status.replace(/_/g, ' ')}</strong>. Answer it in your
          Stripe dashboard: a disputed payment cannot be refunded here.
        </div>
      )}

      <dl className="summary">
        <div>
          <dt>Customer</dt>
          <dd>
            {o.customer.email}
            {o.customer.name && <div className="muted small">{o.customer.name}</div>}
          </dd>
        </div>
        <div>
          <dt>Date</dt>
          <dd>{dateTime(o.created_at)}</dd>
        </div>
        <div>
          <dt>Billing reason</dt>
          <dd>{BILLING_REASON[o.billing_reason] ?? o.billing_reason}</dd>
        </div>
        <div>
          <dt>Subscription</dt>
          <dd>
            {o.subscription_id ? (
              <Link to={`/subscriptions/${o.subscription_id}`} data-testid="order-subscription-link">
                View subscription
              </Link>
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div>
          <dt>Order ID</dt>
          <dd>
            <code className="small">{o.id}</code>
          </dd>
        </div>
      </dl>

      <section className="card" aria-labelledby="order-items-title">
        <h3 id="order-items-title">Items</h3>
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Items of this order</caption>
            <thead>
              <tr>
                <th scope="col">Item</th>
                <th scope="col">Period</th>
                <th scope="col" className="num">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {(o.items ?? []).map((i) => (
                <tr key={i.id}>
                  <td>{i.label}</td>
                  <td>{i.start_timestamp ? `${date(i.start_timestamp)} – ${date(i.end_timestamp)}` : '—'}</td>
                  <td className="num">{money(i.amount, o.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Totals o={o} />
      </section>

      <section className="card" aria-labelledby="order-refunds-title">
        <h3 id="order-refunds-title">Refunds</h3>
        {refunds.error && <LoadError error={refunds.error} retry={refunds.reload} />}
        {refunds.data && refundList.length === 0 && <p className="muted">No refunds.</p>}
        {refundList.length > 0 && <RefundsTable refunds={refundList} />}
        <RefundForm order={o} onRefunded={() => setTick((t) => t + 1)} />
      </section>

      <section className="card" aria-labelledby="order-timeline-title">
        <h3 id="order-timeline-title">Timeline</h3>
        <Timeline o={o} refunds={refundList} />
      </section>

      <section className="card" aria-labelledby="order-more-title">
        <h3 id="order-more-title">Details</h3>
        <dl className="summary details">
          <div>
            <dt>Checkout</dt>
            <dd>{o.checkout_id ? <code className="small">{o.checkout_id}</code> : '—'}</dd>
          </div>
          <div>
            <dt>Custom fields</dt>
            <dd>
              <MetadataList metadata={o.custom_field_data} />
            </dd>
          </div>
          <div>
            <dt>Metadata</dt>
            <dd>
              <MetadataList metadata={o.metadata} />
            </dd>
          </div>
        </dl>
      </section>
    </>
  )
}

function Totals({ o }: { o: Order }) {
  const c = o.currency
  const subtotal = o.subtotal_amount ?? o.net_amount + o.discount_amount
  const tax = o.tax_amount ?? 0
  const refunded = o.refunded_amount ?? 0
  const refundedTax = o.refunded_tax_amount ?? 0
  const refundable = o.refundable_amount ?? 0
  const rows: [string, string, string][] = [
    ['Subtotal', money(subtotal, c), 'order-subtotal'],
    ['Discount', o.discount_amount ? `−${money(o.discount_amount, c)}${o.discount ? ` (${o.discount.name})` : ''}` : '—', 'order-discount'],
    ['Tax', money(tax, c), 'order-tax'],
    ['Total', money(o.total_amount, c), 'order-total'],
    ['Refunded', `${money(refunded, c)}${refundedTax ? ` + ${money(refundedTax, c)} tax` : ''}`, 'order-refunded'],
    ['Refundable', `${money(refundable, c)}${o.refundable_tax_amount ? ` + ${money(o.refundable_tax_amount, c)} tax` : ''}`, 'order-refundable'],
  ]
  return (
    <dl className="totals">
      {rows.map(([label, value, testId]) => (
        <div key={label} className={label === 'Total' ? 'totals-total' : undefined}>
          <dt>{label}</dt>
          <dd data-testid={testId}>{value}</dd>
        </div>
      ))}
    </dl>
  )
}

function RefundsTable({ refunds }: { refunds: Refund[] }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="refunds-table">
        <caption className="visually-hidden">Refunds of this order</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Reason</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Amount
            </th>
          </tr>
        </thead>
        <tbody>
          {refunds.map((r) => {
            const st = REFUND_STATUS[r.status] ?? { label: r.status, tone: 'neutral' as const }
            return (
              <tr key={r.id}>
                <td>{dateTime(r.created_at)}</td>
                <td>{REFUND_REASON[r.reason] ?? r.reason}</td>
                <td>
                  <Badge tone={st.tone}>{st.label}</Badge>
                </td>
                <td className="num">
                  {money(r.amount, r.currency)}
                  {r.tax_amount > 0 && <div className="muted small">+ {money(r.tax_amount, r.currency)} tax</div>}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

function RefundForm({ order: o, onRefunded }: { order: Order; onRefunded: () => void }) {
  const [amount, setAmount] = useState('')
  const [reason, setReason] = useState<RefundReason>('customer_request')
  const [comment, setComment] = useState('')
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const [done, setDone] = useState<string | null>(null)
  const form = useRef<HTMLFormElement>(null)
  const refundable = o.refundable_amount ?? 0
  const canRefund = (o.status === 'paid' || o.status === 'partially_refunded') && refundable > 0
  if (!canRefund) {
    return (
      <>
        {done && <Alert kind="success">{done}</Alert>}
        <p className="muted small">{o.status === 'refunded' ? 'This order is fully refunded.' : 'This order cannot be refunded.'}</p>
      </>
    )
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setDone(null)
    const cents = toMinor(amount, o.currency)
    if (cents === null || cents <= 0) {
      setErrors({ fields: { amount: ['Enter an amount, like 5.00.'] }, general: [] })
      focusFirstError(form.current)
      return
    }
    setBusy(true)
    setErrors(noErrors)
    try {
      const r = await api.post<Refund>('/v1/refunds/', { order_id: o.id, reason, amount: cents, comment: comment.trim() || null })
      setDone(`Refunded ${money(r.amount, r.currency)}${r.tax_amount ? ` (+ ${money(r.tax_amount, r.currency)} tax)` : ''}${r.status === 'pending' ? ': pending at the payment processor.' : '.'}`)
      setAmount('')
      setComment('')
      onRefunded()
    } catch (err) {
      // The API's 403s (already refunded, disputed payment) are about the amount: shown at that field.
      const fe = err instanceof ApiError && err.status === 403 ? { fields: { amount: [err.message] }, general: [] } : toFormErrors(err, ['amount', 'reason', 'comment'])
      setErrors(fe)
      focusFirstError(form.current)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form ref={form} className="refund-form" onSubmit={submit} noValidate aria-labelledby="refund-form-title" data-testid="refund-form">
      <h4 id="refund-form-title">Refund this order</h4>
      {done && <Alert kind="success">{done}</Alert>}
      <FormErrorSummary errors={{ fields: {}, general: errors.general }} title="Could not refund" />
      <div className="row">
        <Field label="Amount" required errors={errors.fields.amount} hint={`Up to ${money(refundable, o.currency)}, before tax (tax is refunded in proportion).`}>
          {(c) => (
            <div className="input-suffix">
              <input
                {...c}
                inputMode="decimal"
                autoComplete="off"
                value={amount}
                onChange={(e) => {
                  setAmount(e.target.value)
                  setErrors((x) => without(x, 'amount'))
                }}
              />
              <span aria-hidden="true">{o.currency.toUpperCase()}</span>
              <button
                type="button"
                className="btn btn-small"
                onClick={() => {
                  setAmount(fromMinor(refundable, o.currency))
                  setErrors((x) => without(x, 'amount'))
                }}
              >
                Full amount
              </button>
            </div>
          )}
        </Field>
        <Field label="Reason" required errors={errors.fields.reason}>
          {(c) => (
            <select {...c} value={reason} onChange={(e) => setReason(e.target.value as RefundReason)}>
              {MANUAL_REASONS.map((r) => (
                <option key={r} value={r}>
                  {REFUND_REASON[r]}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field label="Comment" hint="Internal: the customer does not see it." errors={errors.fields.comment}>
        {(c) => <textarea {...c} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />}
      </Field>
      <div className="form-actions">
        <button type="submit" className="btn btn-danger" disabled={busy}>
          {busy ? 'Refunding…' : 'Refund'}
        </button>
      </div>
    </form>
  )
}

interface TimelineEntry {
  at: string
  title: string
  detail?: string
  tone: 'neutral' | 'success' | 'warning' | 'danger' | 'info'
}

function Timeline({ o, refunds }: { o: Order; refunds: Refund[] }) {
  const entries: TimelineEntry[] = [{ at: o.created_at, title: 'Order created', detail: `${money(o.total_amount, o.currency)} · ${BILLING_REASON[o.billing_reason] ?? o.billing_reason}`, tone: 'neutral' }]
  if (o.paid ?? o.status !== 'pending') entries.push({ at: o.created_at, title: 'Paid', detail: money(o.total_amount, o.currency), tone: 'success' })
  for (const r of refunds) {
    const st = REFUND_STATUS[r.status]?.label ?? r.status
    entries.push({ at: r.created_at, title: `Refund ${st.toLowerCase()}`, detail: `${money(r.amount + r.tax_amount, r.currency)} · ${REFUND_REASON[r.reason] ?? r.reason}`, tone: r.status === 'failed' ? 'danger' : 'info' })
  }
  if (o.dispute) entries.push({ at: o.dispute.created_at, title: 'Dispute opened', detail: `${money(o.dispute.amount, o.currency)} · ${o.dispute.reason ?? 'no reason'} · ${o.dispute.status.replace(/_/g, ' ')}`, tone: 'warning' })
  // Oldest first; entries at the same time keep their order (created before paid).
  const sorted = entries.map((e, i) => ({ e, i })).sort((a, b) => Date.parse(a.e.at) - Date.parse(b.e.at) || a.i - b.i)
  if (!sorted.length) return <EmptyState title="Nothing yet" />
  return (
    <ol className="timeline" data-testid="order-timeline">
      {sorted.map(({ e }, i) => (
        <li key={i} className={`timeline-${e.tone}`}>
          <span className="timeline-dot" aria-hidden="true" />
          <div>
            <div className="strong">{e.title}</div>
            {e.detail && <div className="small">{e.detail}</div>}
            <time className="muted small" dateTime={e.at}>
              {dateTime(e.at)}
            </time>
          </div>
        </li>
      ))}
    </ol>
  )
}
