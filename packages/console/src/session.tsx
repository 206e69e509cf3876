// Who is signed in: the session from GET /v1/sessions/current, kept for the whole app. Roles decide what the
// console offers (a viewer sees no action buttons); the API decides what is allowed (a forced write answers 403).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, hasCsrfToken, setCsrfToken, whenSignedOut } from './api';

export type Role = 'admin' | 'operator' | 'viewer';

export interface SessionUser {
  id: string;
  object: 'user';
  email: string;
  role: Role;
  disabled: boolean;
  must_change_password: boolean;
}

export interface Session {
  id: string;
  object: 'session';
  user: SessionUser;
  expires_at: string;
}

interface SessionState {
  /** undefined while the first check runs; null when nobody is signed in. */
  session: Session | null | undefined;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  refresh(): Promise<void>;
  /** operator or admin: may press action buttons. */
  canWrite: boolean;
  isAdmin: boolean;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  const refresh = useCallback(async () => {
    try {
      const current = await api.get<Session>('/v1/sessions/current');
      // A session without this browser's CSRF token cannot write: sign in again to get one.
      setSession(hasCsrfToken() ? current : null);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) setSession(null);
      else throw error;
    }
  }, []);

  useEffect(() => {
    whenSignedOut(() => setSession(null));
    void refresh();
  }, [refresh]);

  const signIn = useCallback(async (email: string, password: string) => {
    const answer = await api.post<Session & { csrf_token: string }>('/v1/sessions', { email, password });
    setCsrfToken(answer.data.csrf_token);
    const { csrf_token: _token, ...rest } = answer.data;
    setSession(rest);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.delete('/v1/sessions/current');
    } finally {
      setCsrfToken(null);
      setSession(null);
    }
  }, []);

  const value = useMemo<SessionState>(() => {
    const role = session?.user.role;
    return {
      session,
      signIn,
      signOut,
      refresh,
      canWrite: role === 'admin' || role === 'operator',
      isAdmin: role === 'admin',
    };
  }, [session, signIn, signOut, refresh]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}
