import { useEffect, useState } from 'react'
import { api } from './api'
import type { PaymentSettings } from './types'

/**
 * The organization's payment settings, shared by the Settings page and the layout's test-mode banner: the
 * page publishes what it saves, so the banner follows without a reload.
 */
const listeners = new Set<(organizationId: string, settings: PaymentSettings) => void>()

export const paymentSettingsPath = (organizationId: string) => `/v1/organizations/${organizationId}/payment-settings`

export function publishPaymentSettings(organizationId: string, settings: PaymentSettings) {
  for (const listener of listeners) listener(organizationId, settings)
}

/** The settings, or null while loading (or when they cannot be read: the banner then shows nothing). */
export function usePaymentSettings(organizationId: string): PaymentSettings | null {
  const [state, setState] = useState<{ id: string; settings: PaymentSettings } | null>(null)
  useEffect(() => {
    const ctrl = new AbortController()
    api.get<PaymentSettings>(paymentSettingsPath(organizationId), undefined, ctrl.signal).then(
      (settings) => !ctrl.signal.aborted && setState({ id: organizationId, settings }),
      () => undefined,
    )
    const listener = (id: string, settings: PaymentSettings) => id === organizationId && setState({ id, settings })
    listeners.add(listener)
    return () => {
      ctrl.abort()
      listeners.delete(listener)
    }
  }, [organizationId])
  return state?.id === organizationId ? state.settings : null
}

/** The banner's text: the sandbox and Stripe test keys move no real money; live mode shows none. */
export function testModeNotice(settings: PaymentSettings | null): string | null {
  if (!settings) return null
  if (settings.processor === 'sandbox') return 'Sandbox: no real money moves'
  if (!settings.livemode) return 'Test mode: Stripe test keys'
  return null
}
