import { z } from 'zod'
import { Timestamp, Uuid } from '../http/schemas'

export const LoginRequest = z
  .object({
    email: z.string().trim().min(1).max(320).describe('The email address of the dashboard user (case-insensitive).'),
    password: z.string().min(1).max(1024).describe('The password.'),
  })
  .describe('Log in to the dashboard.')
export type LoginRequest = z.infer<typeof LoginRequest>

export const SwitchOrganizationRequest = z
  .object({ organization_id: Uuid.describe('One of the organizations the user belongs to.') })
  .describe('Select the organization the session acts on.')

export const DashboardUser = z.object({
  id: Uuid.describe('The user ID.'),
  email: z.string().describe('The email address.'),
})

export const DashboardOrganization = z.object({
  id: Uuid.describe('The organization ID.'),
  name: z.string().describe('The organization name.'),
  slug: z.string().describe('The organization slug.'),
})

export const DashboardSession = z
  .object({
    user: DashboardUser,
    organizations: z.array(DashboardOrganization).describe('Every organization the user belongs to, oldest membership first.'),
    organization_id: Uuid.describe('The selected organization: the one `/v1` calls made with the session cookie act on.'),
    csrf_token: z.string().describe('Send it as the `x-csrf-token` header on every POST, PATCH, PUT and DELETE made with the session cookie.'),
    expires_at: Timestamp.describe('When the session ends; log in again then.'),
  })
  .describe('The logged-in dashboard user and the session state.')
export type DashboardSession = z.infer<typeof DashboardSession>
