import type { Locale } from '../../lib/locales'
import { de } from './de'
import { en, type Catalog, type MessageKey } from './en'
import { es } from './es'
import { fr } from './fr'
import { hu } from './hu'
import { it } from './it'
import { ja } from './ja'
import { ko } from './ko'
import { nl } from './nl'
import { pl } from './pl'
import { ptBR } from './pt-BR'
import { ptPT } from './pt-PT'
import { sv } from './sv'
import { tr } from './tr'

export const catalogs: Record<Locale, Catalog> = { en, nl, fr, sv, es, de, hu, it, 'pt-BR': ptBR, 'pt-PT': ptPT, ko, ja, tr, pl }

/** Translates a key, filling `{name}` placeholders. */
export function t(locale: Locale, key: MessageKey, params?: Record<string, string | number>): string {
  // The types guarantee every key; the fallback only guards against a bad locale at runtime.
  const message = catalogs[locale]?.[key] ?? en[key]
  if (!params) return message
  // A placeholder with no matching param is left as is rather than becoming "undefined".
  return message.replace(/\{(\w+)\}/g, (match, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : match))
}

export type { Catalog, MessageKey }
