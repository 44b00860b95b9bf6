/**
 * Calls to auth's internal API with a client-credentials token: the token is
 * cached until shortly before it expires and dropped on a 401; a non-2xx
 * answer becomes an AuthCallError with the status and problem `code`.
 */

export interface ServiceCallerOptions {
  authUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export class AuthCallError extends Error {
  override name = 'AuthCallError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ServiceCaller {
  /** `path` under authUrl; resolves with a 2xx response, throws AuthCallError otherwise. */
  call(path: string, init?: { method?: string; body?: string; requestId?: string }): Promise<Response>;
}

export function createServiceCaller(options: ServiceCallerOptions): ServiceCaller {
  const doFetch = options.fetch ?? fetch;
  let cached: { token: string; until: number } | undefined;

  async function send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await doFetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (error) {
      throw new AuthCallError(`auth unreachable: ${(error as Error).message}`);
    }
  }

  async function token(): Promise<string> {
    if (cached && cached.until > Date.now()) return cached.token;
    const response = await send(`${options.authUrl}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      code?: string;
    };
    if (!response.ok || !body.access_token)
      throw new AuthCallError(
        `token request failed: ${response.status} ${body.code ?? ''}`,
        response.status,
        body.code,
      );
    const lifetimeMs = (body.expires_in ?? 60) * 1000;
    cached = { token: body.access_token, until: Date.now() + lifetimeMs * 0.8 };
    return body.access_token;
  }

  async function failure(response: Response): Promise<AuthCallError> {
    const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
    if (response.status === 401) cached = undefined;
    return new AuthCallError(
      `auth answered ${response.status} ${problem.code ?? ''}${problem.detail ? `: ${problem.detail}` : ''}`,
      response.status,
      problem.code,
    );
  }

  return {
    async call(path, init = {}) {
      const response = await send(`${options.authUrl}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${await token()}`,
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(init.requestId ? { 'x-request-id': init.requestId } : {}),
        },
        body: init.body,
      });
      if (!response.ok) throw await failure(response);
      return response;
    },
  };
}
