import { useState, type ReactNode } from 'react'
import { Alert } from '../components/ui'
import { testModeNotice, usePaymentSettings } from '../lib/payment-settings'
import { Link, useTitle } from '../lib/router'
import { useSession } from '../lib/session'

const NAV = [
  { to: '/products', label: 'Products' },
  { to: '/orders', label: 'Orders' },
  { to: '/subscriptions', label: 'Subscriptions' },
  { to: '/customers', label: 'Customers' },
  { to: '/tokens', label: 'Tokens' },
  { to: '/settings', label: 'Settings' },
]

function OrgSwitcher() {
  const { session, organization, switchOrganization } = useSession()
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  if (session.organizations.length <= 1) {
    return <span className="org-name" data-testid="organization-name">{organization?.name ?? 'Organization'}</span>
  }
  return (
    <div className="org-switcher">
      <label htmlFor="org-switcher" className="visually-hidden">
        Organization
      </label>
      <select
        id="org-switcher"
        value={session.organization_id}
        disabled={busy}
        onChange={async (e) => {
          setBusy(true)
          setError(null)
          try {
            await switchOrganization(e.target.value)
          } catch (err) {
            setError(`Could not switch: ${(err as Error).message}`)
          } finally {
            setBusy(false)
          }
        }}
      >
        {session.organizations.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
      {error && (
        <span className="org-error" role="alert">
          {error}
        </span>
      )}
    </div>
  )
}

/** A slim strip above everything while payments move no real money (the sandbox, or Stripe test keys). */
function TestModeBanner({ organizationId }: { organizationId: string }) {
  const notice = testModeNotice(usePaymentSettings(organizationId))
  if (!notice) return null
  return (
    <div className="test-mode-banner" role="status" data-testid="test-mode-banner">
      {notice}
      {' · '}
      <Link to="/settings">Payment settings</Link>
    </div>
  )
}

export function Layout({ path, children }: { path: string; children: ReactNode }) {
  const { session, logout } = useSession()
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <TestModeBanner organizationId={session.organization_id} />
      <header className="topbar">
        <Link to="/products" className="brand">
          <img src="/dashboard/favicon.svg" alt="" width="24" height="24" /> Kassa
        </Link>
        <OrgSwitcher />
        <div className="topbar-end">
          <span className="user-email" title={session.user.email}>
            {session.user.email}
          </span>
          <button type="button" className="btn btn-small" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {NAV.map((n) => (
            <li key={n.to}>
              <Link to={n.to} aria-current={path === n.to || path.startsWith(`${n.to}/`) ? 'page' : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  )
}

const PRODUCT_TABS = [
  { to: '/products', label: 'Products' },
  { to: '/products/discounts', label: 'Discounts' },
  { to: '/products/custom-fields', label: 'Custom fields' },
  { to: '/products/checkout-links', label: 'Checkout Links' },
]

/** The Products section's heading and its four tabs (links: each tab is its own URL). */
export function ProductsSection({ current, children }: { current: string; children: ReactNode }) {
  return (
    <>
      <h1 className="section-title">Products</h1>
      <nav className="subnav" aria-label="Products section">
        {PRODUCT_TABS.map((t) => (
          <Link key={t.to} to={t.to} aria-current={t.to === current ? 'page' : undefined}>
            {t.label}
          </Link>
        ))}
      </nav>
      {children}
    </>
  )
}

export function PageHeader({ title, actions, back }: { title: ReactNode; actions?: ReactNode; back?: { to: string; label: string } }) {
  return (
    <div className="page-header">
      <div>
        {back && (
          <Link to={back.to} className="back-link">
            ← {back.label}
          </Link>
        )}
        <h2>{title}</h2>
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  )
}

export function NotFound() {
  useTitle('Not found')
  return (
    <>
      <h1>Page not found</h1>
      <Alert kind="info">
        Nothing here. <Link to="/products">Go to products</Link>.
      </Alert>
    </>
  )
}
