import { useRef, useState, type FormEvent } from 'react'
import { Alert } from '../components/ui'
import { ApiError, request } from '../lib/api'
import { useTitle } from '../lib/router'
import type { Session } from '../lib/types'

export function LoginPage({ notice, onLogin }: { notice: string | null; onLogin: (s: Session) => void }) {
  useTitle('Log in')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const errorRef = useRef<HTMLDivElement>(null)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setError(null)
    if (!email.trim() || !password) {
      setError('Enter your email and password.')
      return
    }
    setBusy(true)
    try {
      const session = await request<Session>('POST', '/v1/auth/login', { body: { email: email.trim(), password }, quiet401: true })
      onLogin(session)
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('Invalid email or password.')
      else if (err instanceof ApiError && err.status === 429) setError('Too many attempts. Wait a minute, then try again.')
      else setError((err as Error).message)
      requestAnimationFrame(() => errorRef.current?.focus())
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="login" id="main">
      <div className="login-card">
        <div className="brand brand-large">
          <img src="/dashboard/favicon.svg" alt="" width="32" height="32" /> Kassa
        </div>
        <h1>Log in to your dashboard</h1>
        {notice && !error && <Alert kind="info">{notice}</Alert>}
        {error && (
          <div className="alert alert-error" role="alert" tabIndex={-1} ref={errorRef}>
            {error}
          </div>
        )}
        <form onSubmit={submit} noValidate>
          <div className="field">
            <label className="field-label" htmlFor="login-email">
              Email
            </label>
            <input id="login-email" type="email" name="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="login-password">
              Password
            </label>
            <input id="login-password" type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
          <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Logging in…' : 'Log in'}
          </button>
        </form>
        <p className="hint">
          No account yet? An operator creates one with <code>npm run admin -- create-user</code>.
        </p>
      </div>
    </main>
  )
}
