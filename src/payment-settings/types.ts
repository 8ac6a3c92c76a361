// The settings' shape lives with the processors that use them (payments/settings.ts).
export type { ProcessorSettings, StripeSettings } from '../payments/settings'
