import { useRef, useState, type FormEvent } from 'react'
import { Alert, ConfirmDialog, CopyButton, EmptyState, Field, FieldErrors, focusFirstError, FormErrorSummary, LoadError, Pagination, Spinner } from '../components/ui'
import { api } from '../lib/api'
import { Checks, noErrors, toFormErrors, type FormErrors } from '../lib/errors'
import { date, dateTime } from '../lib/format'
import { useList } from '../lib/hooks'
import { useTitle } from '../lib/router'
import type { AccessToken } from '../lib/types'

/** Polar's scopes that Kassa knows, by resource. A `:write` scope also grants `:read`. */
const RESOURCES: { key: string; label: string; write: boolean }[] = [
  { key: 'products', label: 'Products', write: true },
  { key: 'discounts', label: 'Discounts', write: true },
  { key: 'custom_fields', label: 'Custom fields', write: true },
  { key: 'checkout_links', label: 'Checkout links', write: true },
  { key: 'checkouts', label: 'Checkout sessions', write: true },
  { key: 'orders', label: 'Orders', write: false },
  { key: 'subscriptions', label: 'Subscriptions', write: false },
  { key: 'customers', label: 'Customers', write: true },
  { key: 'webhooks', label: 'Webhooks', write: true },
  { key: 'organizations', label: 'Organization', write: true },
  { key: 'organization_access_tokens', label: 'Access tokens', write: true },
]
const ALL_SCOPES = RESOURCES.flatMap((r) => [`${r.key}:read`, ...(r.write ? [`${r.key}:write`] : [])])

const EXPIRY: { value: string; label: string }[] = [
  { value: 'P7D', label: '7 days' },
  { value: 'P30D', label: '30 days' },
  { value: 'P90D', label: '90 days' },
  { value: 'P365D', label: '1 year' },
  { value: '', label: 'No expiration' },
]

const TOKEN_FIELDS = ['comment', 'expires_in', 'scopes'] as const

function scopeSummary(scopes: string[]): string {
  if (ALL_SCOPES.every((s) => scopes.includes(s))) return 'All scopes'
  const reads = ALL_SCOPES.filter((s) => s.endsWith(':read'))
  if (scopes.length === reads.length && reads.every((s) => scopes.includes(s))) return 'Read only (all resources)'
  return scopes.join(', ') || 'No scopes'
}

export function TokensPage() {
  useTitle('Access tokens')
  const list = useList<AccessToken>('/v1/organization-access-tokens/', { sorting: '-created_at' })
  const [created, setCreated] = useState<{ token: string; name: string } | null>(null)
  const [revoking, setRevoking] = useState<AccessToken | null>(null)
  const [creating, setCreating] = useState(false)

  return (
    <>
      <h1 className="section-title">Access tokens</h1>
      <p className="lede">Organization access tokens authenticate your code against the API (<code>Authorization: Bearer polar_oat_…</code>), with the scopes you choose.</p>
      {created && (
        <section className="card token-once" aria-labelledby="token-created-title" data-testid="new-token">
          <h2 id="token-created-title">Token “{created.name}” created</h2>
          <Alert kind="warning">Copy it now: it is stored hashed and will not be shown again.</Alert>
          <div className="url-row">
            <label htmlFor="new-token-value" className="visually-hidden">
              New token
            </label>
            <input id="new-token-value" className="url-output" readOnly value={created.token} onFocus={(e) => e.target.select()} />
            <CopyButton text={created.token} label="Copy token" className="btn btn-primary" />
          </div>
          <button type="button" className="btn" onClick={() => setCreated(null)}>
            Done
          </button>
        </section>
      )}
      {!creating ? (
        <div className="page-header">
          <h2>Tokens</h2>
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New Token
          </button>
        </div>
      ) : (
        <CreateToken
          onCancel={() => setCreating(false)}
          onCreated={(token, name) => {
            setCreating(false)
            setCreated({ token, name })
            list.reload()
          }}
        />
      )}
      {list.error && <LoadError error={list.error} retry={list.reload} />}
      {!list.data && list.loading && <Spinner />}
      {list.data && list.data.items.length === 0 && <EmptyState title="No tokens yet">Create one for each integration, with only the scopes it needs.</EmptyState>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Access tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={t.id}>
                  <td className="strong">{t.comment || 'Unnamed'}</td>
                  <td className="small scopes">{scopeSummary(t.scopes)}</td>
                  <td>{date(t.created_at)}</td>
                  <td>{t.last_used_at ? dateTime(t.last_used_at) : <span className="muted">Never</span>}</td>
                  <td>{t.expires_at ? date(t.expires_at) : <span className="muted">Never</span>}</td>
                  <td className="actions">
                    <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Revoke ${t.comment || 'token'}`} onClick={() => setRevoking(t)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && <Pagination page={list.page} maxPage={list.data.pagination.max_page} total={list.data.pagination.total_count} onPage={list.setPage} />}
      <ConfirmDialog
        open={!!revoking}
        title={`Revoke “${revoking?.comment || 'token'}”?`}
        confirmLabel="Revoke token"
        danger
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          await api.del(`/v1/organization-access-tokens/${revoking!.id}`)
          setRevoking(null)
          list.reload()
        }}
      >
        <p>Requests with this token fail from now on (401). Integrations that use it stop working until they get a new token.</p>
      </ConfirmDialog>
    </>
  )
}

function CreateToken({ onCancel, onCreated }: { onCancel: () => void; onCreated: (token: string, name: string) => void }) {
  const [name, setName] = useState('')
  const [expiry, setExpiry] = useState('P30D')
  const [scopes, setScopes] = useState<string[]>([])
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)

  const toggle = (scope: string, on: boolean) => setScopes((s) => (on ? [...new Set([...s, scope])] : s.filter((x) => x !== scope)))

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const checks = new Checks()
    if (!name.trim()) checks.field('comment', 'Name the token after what uses it.')
    if (!scopes.length) checks.field('scopes', 'Choose at least one scope.')
    if (!checks.ok) {
      setErrors(checks.errors)
      focusFirstError(form.current)
      return
    }
    setBusy(true)
    setErrors(noErrors)
    try {
      const res = await api.post<{ organization_access_token: AccessToken; token: string }>('/v1/organization-access-tokens/', {
        comment: name.trim(),
        expires_in: expiry || null,
        scopes: ALL_SCOPES.filter((s) => scopes.includes(s)),
      })
      onCreated(res.token, res.organization_access_token.comment || name.trim())
    } catch (err) {
      setErrors(toFormErrors(err, TOKEN_FIELDS))
      focusFirstError(form.current)
    } finally {
      setBusy(false)
    }
  }

  return (
    <form ref={form} className="form card" onSubmit={submit} noValidate aria-label="New token">
      <h2>New token</h2>
      <FormErrorSummary errors={errors} title="Could not create the token" />
      <div className="row">
        <Field label="Name" required hint="What uses it, e.g. “Website backend”." errors={errors.fields.comment}>
          {(c) => <input {...c} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Expiration" errors={errors.fields.expires_in}>
          {(c) => (
            <select {...c} value={expiry} onChange={(e) => setExpiry(e.target.value)}>
              {EXPIRY.map((x) => (
                <option key={x.value} value={x.value}>
                  {x.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <fieldset className={`field${errors.fields.scopes ? ' field-invalid' : ''}`}>
        <legend className="field-label">Scopes</legend>
        <div className="button-row">
          <button type="button" className="btn btn-small" onClick={() => setScopes(ALL_SCOPES)}>
            Select all
          </button>
          <button type="button" className="btn btn-small" onClick={() => setScopes(ALL_SCOPES.filter((s) => s.endsWith(':read')))}>
            Read only
          </button>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setScopes([])}>
            Clear
          </button>
        </div>
        <table className="table scope-table">
          <caption className="visually-hidden">Scopes by resource</caption>
          <thead>
            <tr>
              <th scope="col">Resource</th>
              <th scope="col">Read</th>
              <th scope="col">Write</th>
            </tr>
          </thead>
          <tbody>
            {RESOURCES.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.label}</th>
                <td>
                  <input type="checkbox" aria-label={`${r.key}:read`} checked={scopes.includes(`${r.key}:read`) || scopes.includes(`${r.key}:write`)} disabled={scopes.includes(`${r.key}:write`)} onChange={(e) => toggle(`${r.key}:read`, e.target.checked)} />
                </td>
                <td>{r.write && <input type="checkbox" aria-label={`${r.key}:write`} checked={scopes.includes(`${r.key}:write`)} onChange={(e) => toggle(`${r.key}:write`, e.target.checked)} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="hint">Write includes read.</p>
        <FieldErrors errors={errors.fields.scopes} />
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create Token'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
