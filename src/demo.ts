import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from './config'
import { CustomFieldCreate } from './custom-fields/schemas'
import { createCustomField } from './custom-fields/service'
import type { Db } from './db/index'
import { isUniqueViolation } from './db/helpers'
import { DiscountCreate } from './discounts/schemas'
import { createDiscount } from './discounts/service'
import { RequestValidationError } from './http/errors'
import { redactSecrets } from './http/logging'
import { systemClock, type Clock } from './lib/clock'
import { authenticateToken, countOrganizations, createOrganization, createUser, type AuthContext } from './organizations/service'
import { createCheckoutLink } from './checkout-links/service'
import { ProductCreate, type Product } from './products/schemas'
import { createProduct } from './products/service'

export const DEMO_SLUG = 'demo'
export const DEMO_USER_EMAIL = 'demo@kassa.local'
export const DEMO_DISCOUNT_CODE = 'LAUNCH20'

export interface DemoSummary {
  organizationId: string
  accessToken: string
  user: { email: string; password: string | null }
  products: { id: string; name: string }[]
  discountCode: string
  /** Undefined until checkout links exist (see `createDemoLink`). */
  linkUrl: string | undefined
}

type SeedDeps = { db: Db; clock: Clock }

/**
 * First run: an empty database (no organization at all) gets a small store to try everything on. Built
 * through the services, as a merchant would through the API, so the demo obeys every rule the API does.
 * Returns what was created, or undefined when there was nothing to do.
 */
export async function seedDemoData(opts: {
  db: Db
  config: Config
  log: FastifyBaseLogger
  clock?: Clock
  /** Where the human-readable summary goes (stderr); false for none. */
  out?: { write(s: string): unknown } | false
}): Promise<DemoSummary | undefined> {
  const deps: SeedDeps = { db: opts.db, clock: opts.clock ?? systemClock }
  if ((await countOrganizations(deps)) > 0) return undefined

  let created: Awaited<ReturnType<typeof createOrganization>>
  try {
    created = await createOrganization(deps, { name: 'Demo Store', slug: DEMO_SLUG })
  } catch (err) {
    // Another process (servers sharing one PostgreSQL) seeded at the same moment: theirs stands.
    if (err instanceof RequestValidationError || isUniqueViolation(err)) {
      opts.log.info('demo data: another process created it')
      return undefined
    }
    throw err
  }
  const organizationId = created.organization.id
  const accessToken = created.accessToken

  // The steps below each commit on their own (services own their transactions); if one fails, the demo
  // store is left incomplete but usable, and the log says what went wrong.
  try {
    const auth = (await authenticateToken(deps, accessToken))!
    const products = await createDemoCatalog(deps, auth)
    const discount = await createDiscount(
      deps,
      auth,
      DiscountCreate.parse({ type: 'percentage', basis_points: 2000, duration: 'once', name: 'Launch: 20% off', code: DEMO_DISCOUNT_CODE }),
    )
    const password = randomBytes(12).toString('base64url')
    const user = await createUser(deps, { email: DEMO_USER_EMAIL, password, organizationId })
    const link = await createDemoLink(deps, auth, products, opts.config)

    const summary: DemoSummary = {
      organizationId,
      accessToken,
      user: { email: user.email, password: user.existing ? null : password },
      products: products.map((p) => ({ id: p.id, name: p.name })),
      discountCode: discount.code ?? DEMO_DISCOUNT_CODE,
      linkUrl: link?.url,
    }
    report(summary, opts)
    return summary
  } catch (err) {
    throw new Error(`demo data only partly created (organization ${organizationId}): ${(err as Error)?.message ?? err}`, { cause: err })
  }
}

async function createDemoCatalog(deps: SeedDeps, auth: AuthContext): Promise<Product[]> {
  const source = await createCustomField(
    deps,
    auth,
    CustomFieldCreate.parse({
      type: 'select',
      slug: 'source',
      name: 'How did you hear about us?',
      properties: {
        options: [
          { value: 'search', label: 'Search engine' },
          { value: 'social', label: 'Social media' },
          { value: 'friend', label: 'A friend or colleague' },
          { value: 'blog', label: 'A blog or podcast' },
          { value: 'other', label: 'Somewhere else' },
        ],
      },
    }),
  )
  const product = (input: unknown) => createProduct(deps, auth, ProductCreate.parse(input))
  return [
    await product({
      name: 'Kassa Sticker Pack',
      description: 'Five vinyl stickers for your laptop. Ships worldwide.',
      prices: [{ amount_type: 'fixed', price_amount: 1200, price_currency: 'usd' }],
    }),
    await product({
      name: 'Pro Plan',
      description: 'Everything in Kassa, billed monthly. Try it free for 7 days.',
      recurring_interval: 'month',
      trial_interval: 'day',
      trial_interval_count: 7,
      prices: [{ amount_type: 'fixed', price_amount: 2900, price_currency: 'usd' }],
      attached_custom_fields: [{ custom_field_id: source.id, required: false }],
    }),
    await product({
      name: 'Support the Project',
      description: 'Pay what you want (at least $5) to keep Kassa going.',
      prices: [{ amount_type: 'custom', minimum_amount: 500, preset_amount: 1500, price_currency: 'usd' }],
    }),
    await product({
      name: 'Starter Guide',
      description: 'A free PDF guide to selling with checkout links.',
      prices: [{ amount_type: 'fixed', price_amount: 0, price_currency: 'usd' }],
    }),
  ]
}

/**
 * TODO(demo-checkout-link): create a demo checkout link once checkout links exist, e.g. one link offering
 * the Sticker Pack and Pro Plan with `LAUNCH20` allowed, and return its `url` so the banner shows it.
 */
/** One link offering the sticker pack and the Pro plan, with codes allowed: the seed's showcase. */
async function createDemoLink(deps: SeedDeps, auth: AuthContext, products: Product[], config: Config): Promise<{ url: string } | undefined> {
  const offered = products.filter((p) => p.prices.some((pr) => pr.amount_type === 'fixed' && pr.price_amount > 0)).map((p) => p.id)
  const link = await createCheckoutLink({ ...deps, config }, auth, {
    payment_processor: 'stripe',
    products: offered.length ? offered : [products[0]!.id],
    label: 'Demo link',
    allow_discount_codes: true,
    require_billing_address: false,
    metadata: { source: 'demo' },
  })
  return { url: link.url }
}

function report(s: DemoSummary, opts: { config: Config; log: FastifyBaseLogger; out?: { write(s: string): unknown } | false }): void {
  const dashboardUrl = `${opts.config.publicUrl}/dashboard`
  const anotherToken = `npm run --silent admin -- create-token --org ${s.organizationId}`
  // The token and password go to the terminal only (below), never into the structured log, which is kept and shipped.
  opts.log.info(
    {
      organization_id: s.organizationId,
      dashboard: { url: dashboardUrl, email: s.user.email },
      products: s.products.map((p) => p.name),
      discount_code: s.discountCode,
      ...(s.linkUrl ? { link_url: redactSecrets(s.linkUrl) } : {}),
    },
    'demo data created (the access token and password are printed on the terminal, once)',
  )
  const out = opts.out ?? process.stderr
  if (out === false) return
  const rows: [string, string][] = [
    ['organization', `Demo Store (${s.organizationId})`],
    ['API token', `${s.accessToken}   (shown only now)`],
    ['dashboard', dashboardUrl],
    ['login', `${s.user.email} / ${s.user.password ?? '(existing user: password unchanged)'}`],
    ['products', s.products.map((p) => p.name).join(', ')],
    ['discount code', `${s.discountCode} (20% off, once)`],
    ...(s.linkUrl ? ([['checkout link', s.linkUrl]] as [string, string][]) : []),
    ['another token', anotherToken],
  ]
  const line = '─'.repeat(72)
  out.write(
    [
      '',
      line,
      '  Kassa: demo data created (an empty database; DEMO_DATA=0 turns this off)',
      '',
      ...rows.map(([k, v]) => `  ${k.padEnd(14)} ${v}`),
      line,
      '',
    ].join('\n') + '\n',
  )
}
