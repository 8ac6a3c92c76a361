import { useState } from 'react'
import { Alert, Badge, ConfirmDialog, EmptyState, LoadError, Pagination, Spinner, Tabs } from '../../components/ui'
import { api, type Page } from '../../lib/api'
import { date, dateTime, money } from '../../lib/format'
import { useAsync } from '../../lib/hooks'
import { navigate, useTitle } from '../../lib/router'
import type { Checkout, CheckoutLink, CheckoutStatus, CustomField, Product } from '../../lib/types'
import { PageHeader, ProductsSection } from '../layout'
import { LinkForm, useLinkCatalog } from './form'
import { linkLabel, revenueText } from './list'
import { EmbedTab, LinkTab, QrTab } from './share'
import { useLinkStats } from './stats'
import { composeUrl, paramDefs, UrlBuilder, type BuilderState } from './url-builder'

type Tab = 'link' | 'qr' | 'embed' | 'builder'

const TABS: { key: Tab; label: string }[] = [
  { key: 'link', label: 'Link' },
  { key: 'qr', label: 'QR code' },
  { key: 'embed', label: 'Embed' },
  { key: 'builder', label: 'URL builder' },
]

export function LinkDetail({ id }: { id: string }) {
  const link = useAsync((signal) => api.get<CheckoutLink>(`/v1/checkout-links/${id}`, undefined, signal), id)
  useTitle(link.data ? linkLabel(link.data) : 'Checkout Link')
  if (link.error) {
    return (
      <ProductsSection current="/products/checkout-links">
        <PageHeader title="Checkout Link" back={{ to: '/products/checkout-links', label: 'Checkout Links' }} />
        <LoadError error={link.error} retry={link.reload} />
      </ProductsSection>
    )
  }
  if (!link.data) return <Spinner />
  return <LinkDetailLoaded link={link.data} onChanged={link.reload} />
}

function LinkDetailLoaded({ link: initial, onChanged }: { link: CheckoutLink; onChanged: () => void }) {
  const [link, setLink] = useState(initial)
  const [tab, setTab] = useState<Tab>('link')
  const [builder, setBuilder] = useState<BuilderState>({})
  const [deleting, setDeleting] = useState(false)
  const catalog = useLinkCatalog()
  const productIds = link.products.map((p) => p.id)
  // The builder's custom fields: those attached to the link's products (by slug, once each).
  const attached = useAsync(
    (signal) =>
      productIds.length ? api.get<Page<Product>>('/v1/products/', { id: productIds, limit: 100 }, signal).then((r) => r.items) : Promise.resolve([] as Product[]),
    productIds.join(','),
  )
  const customFields: CustomField[] = []
  for (const p of attached.data ?? []) for (const a of p.attached_custom_fields) if (!customFields.some((f) => f.slug === a.custom_field.slug)) customFields.push(a.custom_field)
  const ctx = { link, customFields, discounts: catalog.discounts.data ?? [] }
  const builderUrl = composeUrl(link.url, builder, paramDefs(ctx).map((d) => d.key))

  return (
    <ProductsSection current="/products/checkout-links">
      <PageHeader title={linkLabel(link)} back={{ to: '/products/checkout-links', label: 'Checkout Links' }} />
      <LinkSummary link={link} />
      <section className="card" aria-label="Share">
        <Tabs label="Share this link" tabs={TABS} active={tab} onChange={setTab}>
          {tab === 'link' && <LinkTab url={link.url} />}
          {tab === 'qr' && <QrTab url={link.url} builderUrl={builderUrl} label={linkLabel(link)} />}
          {tab === 'embed' && <EmbedTab url={link.url} />}
          {tab === 'builder' && <UrlBuilder ctx={ctx} state={builder} onChange={setBuilder} />}
        </Tabs>
      </section>

      <h3 className="section-heading">Edit link</h3>
      {catalog.products.error && <LoadError error={catalog.products.error} retry={catalog.products.reload} />}
      {catalog.discounts.error && <LoadError error={catalog.discounts.error} retry={catalog.discounts.reload} />}
      {catalog.products.data && catalog.discounts.data ? (
        <LinkForm link={link} products={catalog.products.data} discounts={catalog.discounts.data} onSaved={setLink} />
      ) : (
        <Spinner />
      )}

      <h3 className="section-heading">Recent sessions</h3>
      <RecentSessions linkId={link.id} />

      <section className="card danger-zone" aria-labelledby="danger-zone-title">
        <h3 id="danger-zone-title">Delete this link</h3>
        <p>The URL stops working at once. Sessions already opened from it, and their orders, are kept.</p>
        <button type="button" className="btn btn-danger" onClick={() => setDeleting(true)}>
          Delete Link
        </button>
      </section>
      <ConfirmDialog
        open={deleting}
        title={`Delete “${linkLabel(link)}”?`}
        confirmLabel="Delete Link"
        danger
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await api.del(`/v1/checkout-links/${link.id}`)
          onChanged()
          navigate('/products/checkout-links')
        }}
      >
        <p>
          <strong>Live links will stop working.</strong> Anyone who opens this link, from your site, an email, a QR code or a post, will see “This link is not available”.
        </p>
        <p className="muted small break">{link.url}</p>
        <p>Checkout sessions already opened from it, and their orders, are not affected. This cannot be undone.</p>
      </ConfirmDialog>
    </ProductsSection>
  )
}

function LinkSummary({ link }: { link: CheckoutLink }) {
  const { stats } = useLinkStats(link.id)
  return (
    <dl className="summary">
      <div>
        <dt>Products</dt>
        <dd>{link.products.map((p) => p.name).join(', ') || '—'}</dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>{date(link.created_at)}</dd>
      </div>
      <div>
        <dt>Sessions</dt>
        <dd data-testid="summary-sessions">{stats ? stats.sessions : '…'}</dd>
      </div>
      <div>
        <dt>Paid</dt>
        <dd data-testid="summary-paid">{stats ? stats.paid : '…'}</dd>
      </div>
      <div>
        <dt>Revenue</dt>
        <dd>{stats ? revenueText(stats) : '…'}</dd>
      </div>
    </dl>
  )
}

const STATUS: Record<CheckoutStatus, { label: string; tone: 'neutral' | 'success' | 'warning' | 'danger' | 'info' }> = {
  open: { label: 'Open', tone: 'info' },
  confirmed: { label: 'Confirmed', tone: 'warning' },
  succeeded: { label: 'Succeeded', tone: 'success' },
  failed: { label: 'Failed', tone: 'danger' },
  expired: { label: 'Expired', tone: 'neutral' },
}

export function StatusBadge({ status }: { status: CheckoutStatus }) {
  const s = STATUS[status] ?? { label: status, tone: 'neutral' as const }
  return <Badge tone={s.tone}>{s.label}</Badge>
}

function RecentSessions({ linkId }: { linkId: string }) {
  const [page, setPage] = useState(1)
  const [status, setStatus] = useState('')
  const sessions = useAsync(
    (signal) => api.get<Page<Checkout>>('/v1/checkouts/', { checkout_link_id: linkId, page, limit: 10, sorting: '-created_at', status: status || undefined }, signal),
    `${linkId}:${page}:${status}`,
  )
  return (
    <section className="card" aria-label="Recent sessions">
      <div className="toolbar">
        <div className="toolbar-filter">
          <label htmlFor="session-status">Status</label>
          <select
            id="session-status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value)
              setPage(1)
            }}
          >
            <option value="">All</option>
            {Object.entries(STATUS).map(([k, v]) => (
              <option key={k} value={k}>
                {v.label}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="btn btn-small" onClick={sessions.reload}>
          Refresh
        </button>
      </div>
      {sessions.error && <LoadError error={sessions.error} retry={sessions.reload} />}
      {!sessions.data && sessions.loading && <Spinner />}
      {sessions.data && sessions.data.items.length === 0 && (
        <EmptyState title={status ? 'No sessions with this status' : 'No sessions yet'}>Each visit to the link opens a session; they show up here.</EmptyState>
      )}
      {sessions.data && sessions.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="sessions-table">
            <caption className="visually-hidden">Checkout sessions opened from this link</caption>
            <thead>
              <tr>
                <th scope="col">Opened</th>
                <th scope="col">Status</th>
                <th scope="col">Customer</th>
                <th scope="col">Product</th>
                <th scope="col" className="num">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.data.items.map((c) => (
                <tr key={c.id}>
                  <td>{dateTime(c.created_at)}</td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td>{c.customer_email ?? <span className="muted">—</span>}</td>
                  <td>{c.product?.name ?? '—'}</td>
                  <td className="num">{money(c.total_amount, c.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {sessions.data && <Pagination page={page} maxPage={sessions.data.pagination.max_page} total={sessions.data.pagination.total_count} onPage={setPage} />}
      {sessions.data && sessions.data.items.some((c) => c.status === 'confirmed') && (
        <Alert kind="info">Confirmed sessions are being paid: they become Succeeded (or Failed) within moments.</Alert>
      )}
    </section>
  )
}
