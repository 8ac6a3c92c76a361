import { useState, type FormEvent } from 'react'
import { Alert, Badge, CopyButton, Field, FormErrorSummary, LoadError, Spinner } from '../components/ui'
import { api } from '../lib/api'
import { noErrors, toFormErrors, without, type FormErrors } from '../lib/errors'
import { useAsync } from '../lib/hooks'
import { paymentSettingsPath, publishPaymentSettings } from '../lib/payment-settings'
import { useTitle } from '../lib/router'
import { useSession } from '../lib/session'
import type { OrganizationSettings, PaymentSettings } from '../lib/types'

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)

/** Organization settings: payments (sandbox or Stripe) and the hosts allowed to embed the checkout (`embed_hosts`, as in Polar's settings). */
export function SettingsPage() {
  useTitle('Settings')
  const { session } = useSession()
  const id = session.organization_id
  const org = useAsync((signal) => api.get<OrganizationSettings>(`/v1/organizations/${id}`, undefined, signal), id)
  const payments = useAsync((signal) => api.get<PaymentSettings>(paymentSettingsPath(id), undefined, signal), id)
  if (org.error) return <LoadError error={org.error} retry={org.reload} />
  if (!org.data) return <Spinner />
  return (
    <>
      <h1 className="section-title">Settings</h1>
      {payments.error ? (
        <LoadError error={payments.error} retry={payments.reload} />
      ) : payments.data ? (
        <PaymentsForm key={id} organizationId={id} initial={payments.data} />
      ) : (
        <Spinner label="Loading payment settings…" />
      )}
      <EmbedHostsForm key={org.data.embed_hosts.join('\n')} organization={org.data} />
    </>
  )
}

const PAYMENT_FIELDS = ['processor', 'secret_key', 'publishable_key', 'webhook_secret'] as const
type SecretField = 'secret_key' | 'publishable_key' | 'webhook_secret'

function ModeBadge({ mode }: { mode: 'test' | 'live' }) {
  return <Badge tone={mode === 'live' ? 'success' : 'warning'}>{mode === 'live' ? 'Live mode' : 'Test mode'}</Badge>
}

/** The processor (sandbox or Stripe) and the Stripe keys: blank fields keep the stored keys, which are never shown. */
function PaymentsForm({ organizationId, initial }: { organizationId: string; initial: PaymentSettings }) {
  const [settings, setSettings] = useState(initial)
  const [processor, setProcessor] = useState<'sandbox' | 'stripe'>(initial.processor)
  const [values, setValues] = useState<Record<SecretField, string>>({ secret_key: '', publishable_key: '', webhook_secret: '' })
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [saved, setSaved] = useState(false)
  const [busy, setBusy] = useState(false)
  const stripe = settings.source === 'organization' ? settings.stripe : null

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setErrors(noErrors)
    setSaved(false)
    try {
      const body: Record<string, string> = { processor }
      if (processor === 'stripe') for (const f of ['secret_key', 'publishable_key', 'webhook_secret'] as const) if (values[f].trim()) body[f] = values[f].trim()
      const updated = await api.put<PaymentSettings>(paymentSettingsPath(organizationId), body)
      setSettings(updated)
      setValues({ secret_key: '', publishable_key: '', webhook_secret: '' })
      setSaved(true)
      publishPaymentSettings(organizationId, updated)
    } catch (err) {
      setErrors(toFormErrors(err, PAYMENT_FIELDS))
    } finally {
      setBusy(false)
    }
  }

  const input = (field: SecretField, label: string, hint: string, stored: string | null, required: boolean, type: 'password' | 'text' = 'password') => (
    <Field label={label} hint={hint} errors={errors.fields[field]} required={required}>
      {(control) => (
        <input
          {...control}
          name={field}
          type={type}
          className="code"
          autoComplete="off"
          spellCheck={false}
          value={values[field]}
          placeholder={stored ?? ''}
          onChange={(e) => {
            setValues({ ...values, [field]: e.target.value })
            setErrors(without(errors, field))
            setSaved(false)
          }}
          data-testid={`payments-${field.replace(/_/g, '-')}`}
        />
      )}
    </Field>
  )

  return (
    <section className="card" aria-labelledby="payments-title" data-testid="payments-settings">
      <h2 id="payments-title">
        Payments {settings.processor === 'stripe' && settings.stripe && <ModeBadge mode={settings.stripe.mode} />}
      </h2>
      <p className="lede">
        What your checkouts pay with. The sandbox simulates payments (no money moves); Stripe takes real payments with your own Stripe account.
        {settings.source === 'environment' && ' This organization uses the Stripe account set for the whole install (STRIPE_* settings) until you save keys of its own.'}
      </p>
      <form onSubmit={submit} noValidate>
        <FormErrorSummary errors={errors} />
        <fieldset className="field">
          <legend className="field-label">Processor</legend>
          {(['sandbox', 'stripe'] as const).map((p) => (
            <label key={p} className="radio">
              <input
                type="radio"
                name="processor"
                value={p}
                checked={processor === p}
                onChange={() => {
                  setProcessor(p)
                  setSaved(false)
                }}
                data-testid={`processor-${p}`}
              />{' '}
              {p === 'sandbox' ? 'Sandbox (test payments, no money moves)' : 'Stripe'}
            </label>
          ))}
          {processor === 'sandbox' && stripe && <p className="hint">Your Stripe keys stay stored: switch back to Stripe at any time without entering them again.</p>}
        </fieldset>
        {processor === 'stripe' && (
          <>
            {!settings.encryption_key_configured && (
              <Alert kind="warning">
                This install has no <code>ENCRYPTION_KEY</code>, which storing Stripe keys requires. Ask the operator to set it (for example to the output of{' '}
                <code>openssl rand -base64 32</code>) and restart Kassa.
              </Alert>
            )}
            {input('secret_key', 'Secret key', 'From Stripe → Developers → API keys: sk_test_… or sk_live_… (or a restricted key, rk_…). Leave blank to keep the stored key.', stripe ? `•••• ${stripe.secret_key_last4}` : 'sk_test_…', !stripe)}
            {input('publishable_key', 'Publishable key', 'pk_test_… or pk_live_…, from the same mode as the secret key. Leave blank to keep the stored key.', stripe ? stripe.publishable_key : 'pk_test_…', !stripe, 'text')}
            {input(
              'webhook_secret',
              'Webhook signing secret',
              'whsec_…, shown on the webhook endpoint’s page in Stripe once you add the endpoint below. Leave blank to keep the stored secret.',
              stripe?.webhook_secret_last4 ? `•••• ${stripe.webhook_secret_last4}` : 'whsec_…',
              false,
            )}
            <div className="field">
              <span className="field-label" id="webhook-url-label">
                Webhook endpoint
              </span>
              <p className="hint">In Stripe → Developers → Webhooks, add an endpoint with this URL, and select these events:</p>
              <div className="copy-row">
                <code data-testid="payments-webhook-url" aria-labelledby="webhook-url-label">
                  {settings.webhook_url}
                </code>{' '}
                <CopyButton text={settings.webhook_url} label="Copy URL" className="btn btn-small" />
              </div>
              <ul className="code-list" data-testid="payments-webhook-events">
                {settings.webhook_events.map((event) => (
                  <li key={event}>
                    <code>{event}</code>
                  </li>
                ))}
              </ul>
            </div>
          </>
        )}
        {saved && (
          <Alert kind="success">
            {settings.processor === 'sandbox' ? 'Saved: checkouts use the sandbox.' : `Saved: checkouts pay with Stripe, in ${settings.livemode ? 'live' : 'test'} mode.`}
          </Alert>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="payments-save">
          {busy ? 'Saving…' : 'Save'}
        </button>
      </form>
    </section>
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
