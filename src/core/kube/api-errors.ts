// What an API call's failure means for the user: the thrown ApiException (an HTTP status and a
// Status body) or network error becomes a typed CoreFailure with what to do about it.
import { ApiException } from '@kubernetes/client-node';
import { CoreError, type CoreFailure } from '../errors';

/** What the failed call was doing, to name it in the message (`list services in "shop"`). */
export interface ApiAction {
  readonly verb: string;
  /** Plural resource, with the subresource if any: `deployments`, `pods/portforward`. */
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { message?: string; field?: string }[] };
}

function statusBody(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body.slice(0, 500) };
    }
  }
  return body && typeof body === 'object' ? (body) : {};
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_|ERR_OSSL_)/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT']);

/** The first error code found on the error or its causes (fetch wraps the socket's error). */
function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(action: ApiAction): string {
  const what = action.name ? `${action.resource} "${action.name}"` : action.resource;
  return `${action.verb} ${what}${action.namespace ? ` in namespace "${action.namespace}"` : ''}`;
}

/** `User "x" cannot list resource "services" in API group "" in the namespace "shop"` → the parts. */
export function parseForbidden(message: string): { verb?: string; resource?: string; group?: string; namespace?: string } {
  const m = /cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/.exec(message);
  if (!m) return {};
  return { verb: m[1], resource: m[2], group: m[3], namespace: m[4] };
}

export function failureOf(err: unknown, action: ApiAction, server = ''): CoreFailure {
  if (err instanceof CoreError) return err.failure;
  const doing = describe(action);
  if (err instanceof ApiException) {
    const status = err.code;
    const body = statusBody(err.body);
    const detail = body.message ?? '';
    switch (status) {
      case 401:
        return {
          kind: 'unauthorized',
          message: `The API server did not accept your credentials (HTTP 401) when trying to ${doing}.`,
          hint: 'Log in again with your cluster provider (an expired token or certificate is the usual cause).',
        };
      case 403: {
        const f = parseForbidden(detail);
        const verb = f.verb ?? action.verb;
        const resource = f.resource ? (f.group ? `${f.resource}.${f.group}` : f.resource) : action.resource;
        const namespace = f.namespace ?? action.namespace;
        return {
          kind: 'forbidden',
          verb,
          resource,
          ...(namespace ? { namespace } : {}),
          message: `Forbidden: you may not ${verb} ${resource}${namespace ? ` in namespace "${namespace}"` : ''}${detail ? ` (${detail})` : ''}.`,
          hint: `Ask a cluster administrator to grant "${verb}" on "${resource}"${namespace ? ` in namespace "${namespace}"` : ''} (docs/rbac.md lists the Role Intercept needs).`,
        };
      }
      case 404:
        return {
          kind: 'not-found',
          resource: action.resource,
          name: action.name ?? '',
          message: `Not found when trying to ${doing}${detail ? `: ${detail}` : ''}.`,
          hint: 'Refresh: it may have been deleted or renamed.',
        };
      case 409:
        return {
          kind: 'conflict',
          message: `Another writer changed the object while Intercept tried to ${doing}${detail ? `: ${detail}` : ''}.`,
          hint: 'Try again; Intercept re-reads the object first.',
        };
      case 422:
      case 400: {
        const causes = (body.details?.causes ?? []).map((c) => `${c.field ?? ''} ${c.message ?? ''}`.trim()).filter(Boolean);
        return {
          kind: 'rejected',
          message: `The API server refused to ${doing}: ${detail || `HTTP ${status}`}${causes.length ? ` (${causes.join('; ')})` : ''}.`,
          hint: 'An admission policy or a validation rule of the cluster refused the change; nothing was changed.',
        };
      }
      default:
        return {
          kind: 'unexpected',
          status,
          message: `The API server answered HTTP ${status} when trying to ${doing}${detail ? `: ${detail}` : ''}.`,
          hint: 'Try again; if it persists, check the cluster.',
        };
    }
  }
  const code = errorCode(err);
  const text = err instanceof Error ? err.message : String(err);
  if (code && TLS_CODES.test(code)) {
    return {
      kind: 'tls',
      server,
      message: `TLS with the API server ${server} failed (${code}): ${text}`,
      hint: "The kubeconfig's certificate-authority does not match the server, or a proxy intercepts TLS. Refresh the kubeconfig from your cluster provider.",
    };
  }
  if ((code && NETWORK_CODES.has(code)) || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|socket hang up/.test(text)) {
    return {
      kind: 'unreachable',
      server,
      message: `The API server ${server} cannot be reached (${code ?? 'network error'}) when trying to ${doing}.`,
      hint: 'Check that the cluster is running and that VPN or network access to it is up.',
    };
  }
  if (/exec|credential|token/i.test(text) && /fail|error|exit/i.test(text)) {
    return {
      kind: 'unauthorized',
      message: `Getting credentials for the API server failed: ${text}`,
      hint: 'Run the credential plugin your kubeconfig names (for example `aws eks get-token` or `gke-gcloud-auth-plugin`) by hand to see why, then log in again.',
    };
  }
  return { kind: 'unexpected', message: `Trying to ${doing} failed: ${text}`, hint: 'Try again; if it persists, check the cluster.' };
}

/** Runs one API call and turns its failure into a CoreError. */
export async function apiCall<T>(action: ApiAction, server: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new CoreError(failureOf(err, action, server));
  }
}

export function isStatus(err: unknown, status: number): boolean {
  if (err instanceof ApiException) return err.code === status;
  if (err instanceof CoreError) {
    const k = err.failure.kind;
    return (status === 404 && k === 'not-found') || (status === 409 && k === 'conflict') || (status === 403 && k === 'forbidden');
  }
  return false;
}
