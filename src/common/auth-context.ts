export const WORKSPACE_ROLES = ['owner', 'admin', 'marketer', 'viewer'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

export type Principal =
  | { kind: 'user'; userId: string }
  | { kind: 'key'; keyId: string; keyKind: 'secret' | 'publishable'; workspaceId: string; role: WorkspaceRole | null };

export interface WorkspaceContext {
  id: string;
  role: WorkspaceRole;
}

/** What the access guard resolved for this request; handlers read it through decorators only. */
export interface AuthContext {
  principal?: Principal;
  workspace?: WorkspaceContext;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
    // Set by passport strategies.
    user?: Principal;
  }
}
