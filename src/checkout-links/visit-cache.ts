import type { LinkForVisit } from './repository'

/** The NOTIFY channel the database's triggers send on (migration 2026-12-04T1500-link-config-notify). */
export const LINK_CONFIG_CHANNEL = 'kassa_link_config'

export interface LinkVisitCacheOptions {
  /** The read the cache saves: `findLinkForVisit`. */
  load: (linkSecret: string) => Promise<LinkForVisit | undefined>
  /** At most this many links are kept; the least recently visited go first. */
  maxEntries?: number
  /** A safety net only (invalidation is by NOTIFY): an entry older than this is read again. */
  maxAgeMs?: number
  /** Milliseconds, for the age check (tests pass their own). */
  now?: () => number
}

interface Entry {
  link: LinkForVisit
  storedAt: number
}

/**
 * Each link's visit configuration, kept in this process (DESIGN.md "A link visit", issue 10) so a visit
 * costs its insert only. The database's triggers NOTIFY the organization whose links changed, and every
 * process forgets those links (`'*'`: everything).
 *
 * Trusted only while the LISTEN is up: until `ready()` and from `lost()` on, every lookup reads the
 * database and nothing is stored, since a change made meanwhile would never be heard. Both clear the cache.
 * A read that an invalidation overtakes (it began before, ended after) is handed to its caller and not
 * stored: that is what the generation counter is for. Missing links are not cached: an unknown secret is
 * read each time (as before), and a new link needs no invalidation to be seen.
 */
export class LinkVisitCache {
  private readonly entries = new Map<string, Entry>()
  private readonly byOrganization = new Map<string, Set<string>>()
  private readonly maxEntries: number
  private readonly maxAgeMs: number
  private readonly now: () => number
  private generation = 0
  private trusted = false

  constructor(private readonly opts: LinkVisitCacheOptions) {
    this.maxEntries = opts.maxEntries ?? 10_000
    this.maxAgeMs = opts.maxAgeMs ?? 5 * 60_000
    this.now = opts.now ?? Date.now
  }

  get size(): number {
    return this.entries.size
  }

  /** Whether lookups may be answered from memory (the LISTEN is up). */
  get isTrusted(): boolean {
    return this.trusted
  }

  async get(linkSecret: string): Promise<LinkForVisit | undefined> {
    if (this.trusted) {
      const hit = this.entries.get(linkSecret)
      if (hit && this.now() - hit.storedAt < this.maxAgeMs) {
        // Map order is insertion order: moving the entry to the end keeps the least recent first.
        this.entries.delete(linkSecret)
        this.entries.set(linkSecret, hit)
        return hit.link
      }
      if (hit) this.remove(linkSecret)
    }
    const generation = this.generation
    const link = await this.opts.load(linkSecret)
    if (!link) return undefined
    const frozen = deepFreeze(link)
    if (this.trusted && generation === this.generation) this.store(linkSecret, frozen)
    return frozen
  }

  /** Forgets one link (a visit that found its cached configuration out of date). */
  forget(linkSecret: string): void {
    this.generation++
    this.remove(linkSecret)
  }

  /** A NOTIFY payload: an organization id, whose links are forgotten, or `'*'` for all. */
  invalidate(payload: string): void {
    this.generation++
    if (payload === '*') return this.clear()
    const secrets = this.byOrganization.get(payload)
    if (!secrets) return
    for (const secret of [...secrets]) this.remove(secret)
  }

  /** The LISTEN is (again) in place: start from empty, since messages may have been missed before. */
  ready(): void {
    this.generation++
    this.clear()
    this.trusted = true
  }

  /** The LISTEN dropped: changes can no longer be heard, so nothing is trusted or stored until `ready()`. */
  lost(): void {
    this.generation++
    this.trusted = false
    this.clear()
  }

  private store(linkSecret: string, link: LinkForVisit): void {
    this.remove(linkSecret)
    this.entries.set(linkSecret, { link, storedAt: this.now() })
    const secrets = this.byOrganization.get(link.organization_id) ?? new Set()
    secrets.add(linkSecret)
    this.byOrganization.set(link.organization_id, secrets)
    while (this.entries.size > this.maxEntries) this.remove(this.entries.keys().next().value!)
  }

  private remove(linkSecret: string): void {
    const entry = this.entries.get(linkSecret)
    if (!entry) return
    this.entries.delete(linkSecret)
    const secrets = this.byOrganization.get(entry.link.organization_id)
    secrets?.delete(linkSecret)
    if (secrets?.size === 0) this.byOrganization.delete(entry.link.organization_id)
  }

  private clear(): void {
    this.entries.clear()
    this.byOrganization.clear()
  }
}

/** Entries are shared by every visit: frozen all the way down, so no caller can change one for the next. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
