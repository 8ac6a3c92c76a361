import { useState, type FormEvent } from 'react'
import { Alert, Field, FormErrorSummary, LoadError, Spinner } from '../components/ui'
import { api } from '../lib/api'
import { noErrors, toFormErrors, type FormErrors } from '../lib/errors'
import { useAsync } from '../lib/hooks'
import { useTitle } from '../lib/router'
import { useSession } from '../lib/session'
import type { OrganizationSettings } from '../lib/types'

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)

/** Organization settings: the hosts allowed to embed the checkout (`embed_hosts`, as in Polar's settings). */
export function SettingsPage() {
  useTitle('Settings')
  const { session } = useSession()
  const id = session.organization_id
  const org = useAsync((signal) => api.get<OrganizationSettings>(`/v1/organizations/${id}`, undefined, signal), id)
  if (org.error) return <LoadError error={org.error} retry={org.reload} />
  if (!org.data) return <Spinner />
  return (
    <>
      <h1 className="section-title">Settings</h1>
      <EmbedHostsForm key={org.data.embed_hosts.join('\n')} organization={org.data} />
    </>
  )
}

function EmbedHostsForm({ organization }: { organization: OrganizationSettings }) {
  const [text, setText] = useState(organization.embed_hosts.join('\n'))
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [saved, setSaved] = useState<string[] | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setErrors(noErrors)
    setSaved(null)
    try {
      const updated = await api.patch<OrganizationSettings>(`/v1/organizations/${organization.id}`, { embed_hosts: lines(text) })
      // The server's normalized list (lower case, default ports dropped, duplicates merged).
      setText(updated.embed_hosts.join('\n'))
      setSaved(updated.embed_hosts)
    } catch (err) {
      const found = toFormErrors(err, ['embed_hosts'])
      // Pydantic's "Value error, " prefix says nothing to a person.
      setErrors({ ...found, fields: { embed_hosts: (found.fields.embed_hosts ?? []).map((m) => m.replace(/^Value error, /, '')) } })
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card" aria-labelledby="embed-hosts-title">
      <h2 id="embed-hosts-title">Embedded checkout</h2>
      <p className="lede">
        The sites allowed to open your checkout in an overlay on their own pages (the Embed tab of a checkout link gives the snippet). The checkout refuses to be
        framed by any site not listed here; with no site listed, none can embed it.
      </p>
      <form onSubmit={submit} noValidate>
        <FormErrorSummary errors={errors} />
        <Field
          label="Embed hosts"
          hint={
            <>
              One per line: a host and an optional port, without <code>https://</code> (<code>example.com</code>, <code>shop.example.com</code>, <code>localhost:3000</code>).
              HTTPS is always allowed, and HTTP too for localhost and private addresses. <code>*.example.com</code> matches every subdomain, but not{' '}
              <code>example.com</code> itself.
            </>
          }
          errors={errors.fields.embed_hosts}
        >
          {(control) => (
            <textarea
              {...control}
              name="embed_hosts"
              className="code"
              rows={5}
              value={text}
              spellCheck={false}
              placeholder={'example.com\n*.example.com\nlocalhost:3000'}
              onChange={(e) => {
                setText(e.target.value)
                setSaved(null)
              }}
              data-testid="embed-hosts"
            />
          )}
        </Field>
        {saved && <Alert kind="success">{saved.length ? `Saved: ${saved.length} host${saved.length > 1 ? 's' : ''} may embed your checkout.` : 'Saved: no site may embed your checkout.'}</Alert>}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </form>
    </section>
  )
}
