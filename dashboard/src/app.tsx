import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react'
import { Spinner } from './components/ui'
import { api, ApiError, request, setCsrfToken, setUnauthorizedHandler } from './lib/api'
import { match, navigate, Redirect, useLocation } from './lib/router'
import { SessionContext, type SessionApi } from './lib/session'
import type { Session } from './lib/types'
import { LinkDetail } from './pages/checkout-links/detail'
import { LinkEdit } from './pages/checkout-links/form'
import { LinksList } from './pages/checkout-links/list'
import { CustomFieldForm, CustomFieldsList } from './pages/custom-fields'
import { CustomersList } from './pages/customers'
import { DiscountForm, DiscountsList } from './pages/discounts'
import { Layout, NotFound } from './pages/layout'
import { LoginPage } from './pages/login'
import { OrderDetail } from './pages/order-detail'
import { OrdersList } from './pages/orders'
import { ProductForm, ProductsList } from './pages/products'
import { SettingsPage } from './pages/settings'
import { SubscriptionDetail, SubscriptionsList } from './pages/subscriptions'
import { TokensPage } from './pages/tokens'

type Route = [pattern: string, render: (params: Record<string, string>) => ReactNode]

// The first pattern that matches wins: fixed paths before `:id`.
const ROUTES: Route[] = [
  ['/', () => <Redirect to="/products" />],
  ['/products', () => <ProductsList />],
  ['/products/new', () => <ProductForm />],
  ['/products/discounts', () => <DiscountsList />],
  ['/products/discounts/new', () => <DiscountForm />],
  ['/products/discounts/:id', (p) => <DiscountForm id={p.id} />],
  ['/products/custom-fields', () => <CustomFieldsList />],
  ['/products/custom-fields/new', () => <CustomFieldForm />],
  ['/products/custom-fields/:id', (p) => <CustomFieldForm id={p.id} />],
  ['/products/checkout-links', () => <LinksList />],
  ['/products/checkout-links/new', () => <LinkEdit />],
  ['/products/checkout-links/:id', (p) => <LinkDetail id={p.id!} />],
  ['/products/:id', (p) => <ProductForm id={p.id} />],
  ['/orders', () => <OrdersList />],
  ['/orders/:id', (p) => <OrderDetail id={p.id!} />],
  ['/subscriptions', () => <SubscriptionsList />],
  ['/subscriptions/:id', (p) => <SubscriptionDetail id={p.id!} />],
  ['/customers', () => <CustomersList />],
  ['/tokens', () => <TokensPage />],
  ['/settings', () => <SettingsPage />],
]

function route(path: string): ReactNode {
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, path)
    if (params) return render(params)
  }
  return <NotFound />
}

export function App() {
  const { path, query } = useLocation()
  const [session, setSession] = useState<Session | null | undefined>(undefined)
  const [notice, setNotice] = useState<string | null>(null)
  // Bumped on organization switch: every page under the layout remounts and loads the new organization's data.
  const [generation, setGeneration] = useState(0)

  const accept = useCallback((s: Session | null) => {
    setCsrfToken(s?.csrf_token ?? null)
    setSession(s)
  }, [])

  useEffect(() => {
    request<Session>('GET', '/v1/auth/me', { quiet401: true })
      .then(accept)
      .catch((err) => {
        if (!(err instanceof ApiError && err.status === 401)) setNotice(`Could not check your session: ${(err as Error).message}`)
        accept(null)
      })
  }, [accept])

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setNotice('Your session has ended. Log in again to continue.')
      accept(null)
    })
    return () => setUnauthorizedHandler(null)
  }, [accept])

  const sessionApi = useMemo<SessionApi | null>(() => {
    if (!session) return null
    return {
      session,
      organization: session.organizations.find((o) => o.id === session.organization_id),
      async switchOrganization(id) {
        const next = await api.post<Session>('/v1/auth/switch', { organization_id: id })
        accept(next)
        setGeneration((g) => g + 1)
        // An object page belongs to the previous organization: go to its list.
        const sections = ['/products/discounts', '/products/custom-fields', '/products/checkout-links', '/products', '/orders', '/subscriptions', '/customers', '/tokens']
        const current = window.location.pathname.replace(/^\/dashboard/, '')
        const section = sections.find((s) => current === s || current.startsWith(`${s}/`)) ?? '/products'
        navigate(section)
      },
      async logout() {
        try {
          await api.post('/v1/auth/logout')
        } finally {
          setNotice('You have been logged out.')
          accept(null)
          navigate('/login')
        }
      },
    }
  }, [session, accept])

  if (session === undefined) return <Spinner label="Loading Kassa…" />

  if (!sessionApi) {
    if (path !== '/login') {
      const next = path + (query.toString() ? `?${query}` : '')
      return <Redirect to={`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} />
    }
    return (
      <LoginPage
        notice={notice}
        onLogin={(s) => {
          setNotice(null)
          accept(s)
          const next = query.get('next')
          navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/products', { replace: true })
        }}
      />
    )
  }

  if (path === '/login') return <Redirect to="/products" />

  return (
    <SessionContext.Provider value={sessionApi}>
      <Layout path={path}>
        <div key={generation}>{route(path)}</div>
      </Layout>
    </SessionContext.Provider>
  )
}
