import { useId } from 'react'
import { CopyButton, EmptyState, LoadError, Pagination, Spinner } from '../../components/ui'
import { date, money } from '../../lib/format'
import { fetchAll, useAsync, useList } from '../../lib/hooks'
import { Link, setQuery, useLocation, useTitle } from '../../lib/router'
import type { CheckoutLink, Product } from '../../lib/types'
import { PageHeader, ProductsSection } from '../layout'
import { useLinkStats, type LinkStats } from './stats'

export const linkLabel = (l: Pick<CheckoutLink, 'label'>) => l.label?.trim() || 'Untitled'
export const linkProducts = (l: Pick<CheckoutLink, 'products'>) =>
  l.products.length === 1 ? l.products[0]!.name : l.products.length === 0 ? 'No products' : `${l.products.length} products`

export function revenueText(s: LinkStats): string {
  const parts = Object.entries(s.revenue).map(([cur, amount]) => money(amount, cur))
  if (!parts.length) return money(0, 'usd')
  return (s.partial ? '≥ ' : '') + parts.join(' + ')
}

type Sort = 'created_at' | '-created_at' | 'label' | '-label'

function SortHeader({ label, field, sort }: { label: string; field: 'created_at' | 'label'; sort: Sort }) {
  const active = sort === field || sort === `-${field}`
  const descending = sort.startsWith('-')
  const next: Sort = active ? ((descending ? field : `-${field}`) as Sort) : field === 'created_at' ? '-created_at' : 'label'
  return (
    <th scope="col" aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="sort-button" onClick={() => setQuery({ sort: next === '-created_at' ? null : next, page: null })}>
        {label}
        <span aria-hidden="true" className="sort-indicator">
          {active ? (descending ? '↓' : '↑') : '↕'}
        </span>
        <span className="visually-hidden">, sort {next.startsWith('-') ? 'descending' : 'ascending'}</span>
      </button>
    </th>
  )
}

function StatsCells({ link }: { link: CheckoutLink }) {
  const { stats, error } = useLinkStats(link.id)
  if (error)
    return (
      <td colSpan={3} className="muted small">
        Numbers unavailable
      </td>
    )
  if (!stats)
    return (
      <>
        <td className="num muted">…</td>
        <td className="num muted">…</td>
        <td className="num muted">…</td>
      </>
    )
  return (
    <>
      <td className="num" data-testid="link-sessions">
        {stats.sessions}
      </td>
      <td className="num" data-testid="link-paid">
        {stats.paid}
      </td>
      <td className="num" data-testid="link-revenue">
        {revenueText(stats)}
      </td>
    </>
  )
}

function LinkRow({ link }: { link: CheckoutLink }) {
  const urlId = useId()
  return (
    <tr>
      <td>
        <Link to={`/products/checkout-links/${link.id}`} className="strong">
          {linkLabel(link)}
        </Link>
      </td>
      <td title={link.products.map((p) => p.name).join(', ')}>{linkProducts(link)}</td>
      <td>
        <div className="url-cell">
          <code id={urlId} className="truncate">
            {link.url}
          </code>
          <CopyButton text={link.url} label="Copy URL" className="btn btn-small" describedBy={urlId} />
        </div>
      </td>
      <td>{date(link.created_at)}</td>
      <StatsCells link={link} />
    </tr>
  )
}

export function LinksList() {
  useTitle('Checkout Links')
  const { query } = useLocation()
  const sort = (query.get('sort') as Sort | null) ?? '-created_at'
  const product = query.get('product') ?? ''
  const list = useList<CheckoutLink>('/v1/checkout-links/', { sorting: sort, product_id: product || undefined })
  const products = useAsync((signal) => fetchAll<Product>('/v1/products/', {}, signal), 'products')

  const newLink = (
    <Link to="/products/checkout-links/new" className="btn btn-primary">
      New Link
    </Link>
  )
  return (
    <ProductsSection current="/products/checkout-links">
      <PageHeader title="Checkout Links" actions={newLink} />
      <div className="toolbar">
        <div className="toolbar-filter">
          <label htmlFor="link-product-filter">Product</label>
          <select id="link-product-filter" value={product} onChange={(e) => setQuery({ product: e.target.value || null, page: null })}>
            <option value="">All products</option>
            {(products.data ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
                {p.is_archived ? ' (archived)' : ''}
              </option>
            ))}
          </select>
        </div>
      </div>
      {list.error && <LoadError error={list.error} retry={list.reload} />}
      {!list.data && list.loading && <Spinner />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState title={product ? 'No links sell this product' : 'No checkout links yet'} action={newLink}>
          A checkout link is a URL you share anywhere: every visit opens a fresh checkout for your products.
        </EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="links-table">
            <caption className="visually-hidden">Checkout links</caption>
            <thead>
              <tr>
                <SortHeader label="Label" field="label" sort={sort} />
                <th scope="col">Products</th>
                <th scope="col">URL</th>
                <SortHeader label="Created" field="created_at" sort={sort} />
                <th scope="col" className="num">
                  Sessions
                </th>
                <th scope="col" className="num">
                  Paid
                </th>
                <th scope="col" className="num">
                  Revenue
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((l) => (
                <LinkRow key={l.id} link={l} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && <Pagination page={list.page} maxPage={list.data.pagination.max_page} total={list.data.pagination.total_count} onPage={list.setPage} />}
    </ProductsSection>
  )
}
