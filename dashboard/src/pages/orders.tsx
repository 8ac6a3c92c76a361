import { Fragment, useState } from 'react'
import { Badge, EmptyState, LoadError, MetadataList, Pagination, SearchBox, Spinner } from '../components/ui'
import { dateTime, money } from '../lib/format'
import { useList } from '../lib/hooks'
import { Link, useTitle } from '../lib/router'
import { BILLING_REASON as REASON, ORDER_STATUS } from '../lib/status'
import type { Order } from '../lib/types'

export function OrdersList() {
  useTitle('Orders')
  const list = useList<Order>('/v1/orders/')
  const [open, setOpen] = useState<string | null>(null)
  return (
    <>
      <h1 className="section-title">Orders</h1>
      <div className="toolbar">
        <SearchBox label="Search orders" placeholder="Search by customer email" />
      </div>
      {list.error && <LoadError error={list.error} retry={list.reload} />}
      {!list.data && list.loading && <Spinner />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState title={list.q ? 'No orders match your search' : 'No orders yet'}>{list.q ? undefined : 'Orders appear here when a checkout is paid.'}</EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Orders</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Customer</th>
                <th scope="col">Product</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Total
                </th>
                <th scope="col">Metadata</th>
                <th scope="col">
                  <span className="visually-hidden">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((o) => {
                const s = ORDER_STATUS[o.status] ?? { label: o.status, tone: 'neutral' as const }
                const expanded = open === o.id
                return (
                  <Fragment key={o.id}>
                    <tr>
                      <td>
                        <Link to={`/orders/${o.id}`} data-testid="order-link">
                          {dateTime(o.created_at)}
                          <span className="visually-hidden"> order of {o.customer.email}</span>
                        </Link>
                      </td>
                      <td>
                        {o.customer.email}
                        {o.customer.name && <div className="muted small">{o.customer.name}</div>}
                      </td>
                      <td>
                        {o.product?.name ?? o.description}
                        <div className="muted small">{REASON[o.billing_reason] ?? o.billing_reason}</div>
                      </td>
                      <td>
                        <Badge tone={s.tone}>{s.label}</Badge>
                      </td>
                      <td className="num">{money(o.total_amount, o.currency)}</td>
                      <td>
                        <MetadataList metadata={o.metadata} />
                      </td>
                      <td>
                        <button type="button" className="btn btn-small" aria-expanded={expanded} aria-controls={`order-${o.id}`} onClick={() => setOpen(expanded ? null : o.id)}>
                          {expanded ? 'Hide' : 'Details'}
                          <span className="visually-hidden"> of the order of {o.customer.email}</span>
                        </button>
                      </td>
                    </tr>
                    {expanded && (
                      <tr id={`order-${o.id}`} className="details-row">
                        <td colSpan={7}>
                          <dl className="summary">
                            <div>
                              <dt>Order ID</dt>
                              <dd>
                                <code>{o.id}</code>
                              </dd>
                            </div>
                            <div>
                              <dt>Subscription</dt>
                              <dd>{o.subscription_id ? <Link to={`/subscriptions/${o.subscription_id}`}>View subscription</Link> : '—'}</dd>
                            </div>
                            <div>
                              <dt>Checkout</dt>
                              <dd>{o.checkout_id ? <code>{o.checkout_id}</code> : '—'}</dd>
                            </div>
                            <div>
                              <dt>Subtotal</dt>
                              <dd>{money(o.net_amount + o.discount_amount, o.currency)}</dd>
                            </div>
                            <div>
                              <dt>Discount</dt>
                              <dd>{o.discount ? `${o.discount.name} (−${money(o.discount_amount, o.currency)})` : '—'}</dd>
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
                        </td>
                      </tr>
                    )}
                  </Fragment>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      {list.data && <Pagination page={list.page} maxPage={list.data.pagination.max_page} total={list.data.pagination.total_count} onPage={list.setPage} />}
    </>
  )
}
