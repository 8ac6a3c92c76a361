/** Who is calling: an organization access token or a dashboard session acting on its organization. */
export interface AuthContext {
  organizationId: string
  /** The access token that authenticated the request; null for a dashboard session. */
  tokenId: string | null
  /** The dashboard session (cookie) that authenticated the request, and its user. */
  sessionId?: string
  userId?: string
  scopes: ReadonlySet<string>
}

/** A live dashboard session. */
export interface SessionAuth {
  sessionId: string
  userId: string
  email: string
  organizationId: string
  expiresAt: Date
}
