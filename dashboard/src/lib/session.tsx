import { createContext, useContext } from 'react'
import type { Organization, Session } from './types'

export interface SessionApi {
  session: Session
  organization: Organization | undefined
  switchOrganization: (id: string) => Promise<void>
  logout: () => Promise<void>
}

export const SessionContext = createContext<SessionApi | null>(null)

export function useSession(): SessionApi {
  const s = useContext(SessionContext)
  if (!s) throw new Error('useSession outside a session')
  return s
}
