import { describe, expect, it } from 'vitest'
import { catalogs, t } from '../src/checkout-page/i18n'
import { en, type MessageKey } from '../src/checkout-page/i18n/en'
import { SUPPORTED_LOCALES } from '../src/lib/locales'

const keys = Object.keys(en).sort() as MessageKey[]
const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort()
// Keys whose translation may legitimately equal the English text (brand names, card jargon).
const MAY_MATCH_EN = new Set<MessageKey>(['powered_by', 'card_cvc'])

describe('checkout i18n catalogs', () => {
  it('has a catalog for every supported locale and nothing else', () => {
    expect(Object.keys(catalogs).sort()).toEqual([...SUPPORTED_LOCALES].sort())
  })

  describe.each(SUPPORTED_LOCALES)('%s', (locale) => {
    const catalog = catalogs[locale]

    it('has exactly the keys of en', () => {
      expect(Object.keys(catalog).sort()).toEqual(keys)
    })

    it('has no empty values', () => {
      const empty = keys.filter((k) => typeof catalog[k] !== 'string' || catalog[k].trim() === '')
      expect(empty).toEqual([])
    })

    it('keeps the same {placeholders} as en for every key', () => {
      const mismatched = keys
        .filter((k) => placeholders(catalog[k]).join() !== placeholders(en[k]).join())
        .map((k) => ({ key: k, expected: placeholders(en[k]), got: placeholders(catalog[k]) }))
      expect(mismatched).toEqual([])
    })

    // (English is the reference: comparing it with itself says nothing.)
    if (locale !== 'en') {
      it('is actually translated (at least 90% of keys differ from en)', () => {
        const checked = keys.filter((k) => !MAY_MATCH_EN.has(k))
        const same = checked.filter((k) => catalog[k] === en[k])
        expect(1 - same.length / checked.length, `identical to en: ${same.join(', ')}`).toBeGreaterThanOrEqual(0.9)
      })
    }
  })
})

describe('t()', () => {
  it('fills placeholders', () => {
    expect(t('en', 'billed_every', { count: 3, unit: t('en', 'unit_month') })).toBe('Billed every 3 months')
    expect(t('en', 'amount_between', { min: '$5.00', max: '$100.00' })).toBe('Enter an amount between $5.00 and $100.00.')
    expect(t('de', 'pay', { amount: '12,00 €' })).toBe('12,00 € bezahlen')
    expect(t('ja', 'trial_days', { count: 14 })).toBe('14日間の無料トライアル')
    expect(t('fr', 'start_trial', { trial: t('fr', 'trial_days', { count: 7 }) })).toBe('Profiter de 7 jours d’essai gratuit')
  })

  it('leaves a placeholder without a matching param alone', () => {
    expect(t('en', 'then_price', { price: '$9' })).toBe('Then $9 starting {date}')
  })

  it('returns the message unchanged without params, and falls back to en for an unknown locale', () => {
    expect(t('pt-BR', 'postal_code')).toBe('CEP')
    expect(t('pt-PT', 'postal_code')).toBe('Código postal')
    expect(t('xx' as never, 'back')).toBe('Back')
  })
})
