import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Deps } from '../deps'

// Placeholder until the discounts domain lands.
export const discountRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async () => {}
