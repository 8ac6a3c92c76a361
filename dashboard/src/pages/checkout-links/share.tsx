import { useEffect, useId, useState, type CSSProperties } from 'react'
import { CopyButton, LoadError, Spinner } from '../../components/ui'
import { Link } from '../../lib/router'

const fileBase = (label: string) =>
  `kassa-link-${
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'untitled'
  }`

/** Link tab: the URL, Copy and Open. */
export function LinkTab({ url }: { url: string }) {
  const id = useId()
  return (
    <div className="share-link">
      <label className="field-label" htmlFor={id}>
        Checkout link
      </label>
      <div className="url-row">
        <input id={id} className="url-output" readOnly value={url} onFocus={(e) => e.target.select()} data-testid="link-url" />
        <CopyButton text={url} label="Copy" className="btn btn-primary" />
        <a className="btn" href={url} target="_blank" rel="noopener noreferrer">
          Open
        </a>
      </div>
      <p className="hint">Share it anywhere: every visit opens a new checkout session. The link itself never expires.</p>
    </div>
  )
}

/** QR code tab: a preview and PNG/SVG downloads, drawn with `qrcode`. */
export function QrTab({ url, builderUrl, label }: { url: string; builderUrl: string; label: string }) {
  const [useBuilder, setUseBuilder] = useState(false)
  const [size, setSize] = useState(512)
  const [png, setPng] = useState<string | null>(null)
  const [svg, setSvg] = useState<string | null>(null)
  const [error, setError] = useState<Error | null>(null)
  const target = useBuilder ? builderUrl : url
  const hasBuilderParams = builderUrl !== url

  useEffect(() => {
    let cancelled = false
    const opts = { errorCorrectionLevel: 'M' as const, margin: 2 }
    // Loaded on first use: the QR encoder is not needed by any other page.
    import('qrcode')
      .then(({ default: QRCode }) => Promise.all([QRCode.toDataURL(target, { ...opts, width: size }), QRCode.toString(target, { ...opts, type: 'svg' })]))
      .then(
      ([p, s]) => {
        if (cancelled) return
        setPng(p)
        setSvg(s)
        setError(null)
      },
      (e: Error) => !cancelled && setError(e),
    )
    return () => {
      cancelled = true
    }
  }, [target, size])

  const svgHref = svg ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` : undefined
  return (
    <div className="qr">
      <div className="qr-preview">{png ? <img src={png} width={240} height={240} alt={`QR code for ${target}`} data-testid="qr-image" /> : error ? null : <Spinner />}</div>
      <div className="qr-controls">
        {error && <LoadError error={error} />}
        <p className="hint">
          Encodes <code className="break">{target}</code>
        </p>
        <label className="inline">
          <input type="checkbox" checked={useBuilder} disabled={!hasBuilderParams} onChange={(e) => setUseBuilder(e.target.checked)} /> Include the URL builder's parameters
        </label>
        <div className="field">
          <label className="field-label" htmlFor="qr-size">
            PNG size
          </label>
          <select id="qr-size" value={size} onChange={(e) => setSize(Number(e.target.value))}>
            <option value={256}>256 × 256</option>
            <option value={512}>512 × 512</option>
            <option value={1024}>1024 × 1024</option>
          </select>
        </div>
        <div className="button-row">
          <a className={`btn btn-primary${png ? '' : ' disabled'}`} href={png ?? undefined} download={`${fileBase(label)}.png`} aria-disabled={!png}>
            Download PNG
          </a>
          <a className={`btn${svgHref ? '' : ' disabled'}`} href={svgHref} download={`${fileBase(label)}.svg`} aria-disabled={!svgHref}>
            Download SVG
          </a>
        </div>
      </div>
    </div>
  )
}

type Theme = 'light' | 'dark'

/** The button's look, for the snippet and for the preview (set through the DOM, so the CSP allows it). */
export function buttonStyle(theme: Theme): CSSProperties {
  return {
    display: 'inline-block',
    padding: '12px 20px',
    borderRadius: '8px',
    background: theme === 'dark' ? '#f8fafc' : '#1d4ed8',
    color: theme === 'dark' ? '#0f172a' : '#ffffff',
    font: '600 16px/1.2 system-ui, -apple-system, Segoe UI, Roboto, sans-serif',
    textDecoration: 'none',
  }
}

const cssText = (style: CSSProperties) =>
  Object.entries(style)
    .map(([k, v]) => `${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}:${v}`)
    .join(';')

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * Polar's embed markup (`@polar-sh/checkout`): a link carrying `data-polar-checkout`, opened in an overlay on the
 * merchant's page by Kassa's `/embed.js` (same API, trusting this Kassa instance). Without the script it is still
 * a working link.
 */
export function embedSnippet(url: string, theme: Theme, text: string, kassaOrigin: string): string {
  return [
    `<a href="${escapeHtml(url)}" data-polar-checkout data-polar-checkout-theme="${theme}" style="${escapeHtml(cssText(buttonStyle(theme)))}">${escapeHtml(text || 'Buy now')}</a>`,
    `<script src="${escapeHtml(kassaOrigin)}/embed.js" defer data-auto-init></script>`,
  ].join('\n')
}

/** Embed tab: a snippet to paste into a page, with a theme choice and the button's text, previewed live. */
export function EmbedTab({ url }: { url: string }) {
  const [theme, setTheme] = useState<Theme>('light')
  const [text, setText] = useState('Buy now')
  const snippet = embedSnippet(url, theme, text, window.location.origin)
  const id = useId()
  return (
    <div className="embed">
      <div className="embed-controls">
        <fieldset className="field">
          <legend className="field-label">Theme</legend>
          <div className="segmented">
            <label>
              <input type="radio" name={`${id}-theme`} checked={theme === 'light'} onChange={() => setTheme('light')} /> Light
            </label>
            <label>
              <input type="radio" name={`${id}-theme`} checked={theme === 'dark'} onChange={() => setTheme('dark')} /> Dark
            </label>
          </div>
          <p className="hint">For a light or a dark page: the button's colours and the checkout page's theme.</p>
        </fieldset>
        <div className="field">
          <label className="field-label" htmlFor={`${id}-text`}>
            Button text
          </label>
          <input id={`${id}-text`} value={text} maxLength={60} onChange={(e) => setText(e.target.value)} />
        </div>
      </div>
      <div className={`embed-preview embed-preview-${theme}`} data-testid="embed-preview">
        <span className="visually-hidden">Preview:</span>
        <a href={new URL(`${url}${url.includes('?') ? '&' : '?'}theme=${theme}`).toString()} target="_blank" rel="noopener noreferrer" style={buttonStyle(theme)}>
          {text || 'Buy now'}
        </a>
      </div>
      <div className="field">
        <label className="field-label" htmlFor={`${id}-snippet`}>
          Snippet
        </label>
        <textarea id={`${id}-snippet`} className="code" readOnly rows={5} value={snippet} onFocus={(e) => e.target.select()} data-testid="embed-snippet" />
      </div>
      <CopyButton text={snippet} label="Copy snippet" className="btn btn-primary" />
      <p className="hint">
        List your site in <Link to="/settings">Settings → Embed hosts</Link> first: the checkout opens in an overlay on your page only from a listed site, and refuses to be framed anywhere else.
        From script: <code>Polar.EmbedCheckout.create(url, {'{'} theme {'}'})</code>, then <code>addEventListener('success', …)</code>.
      </p>
    </div>
  )
}
