// Requests to the sidecar's control port travel over a byte stream dialed here (a port-forward
// through the API server, or a socket in tests), handed to http.request as `createConnection`.
// VS Code's extension host patches http.request so that requests go through its proxy agent, which
// dials the host by itself and so ignores `createConnection` (seen: "getaddrinfo ENOTFOUND
// intercept-control"); it leaves a request alone when it names a `socketPath`. So these requests name
// one, which is never opened: the stream comes from `createConnection`.
import { OUTBOUND_PATH, TUNNEL_PATH } from '../../protocol/constants';

/** The name a dialed request carries as its host and socket path. */
export const DIALED_HOST = 'intercept-control';

/** http.request options that keep a dialed request away from an agent's own dialing. */
export const dialedRequestOptions = { host: DIALED_HOST, socketPath: DIALED_HOST } as const;

/** The tunnel's WebSocket URL; `ws+unix:` is how ws is told the socket path (before `:`) and the path. */
export const TUNNEL_URL = `ws+unix://${DIALED_HOST}/${DIALED_HOST}:${TUNNEL_PATH}`;

/** The outbound session's WebSocket URL, dialed the same way. */
export const OUTBOUND_URL = `ws+unix://${DIALED_HOST}/${DIALED_HOST}:${OUTBOUND_PATH}`;
