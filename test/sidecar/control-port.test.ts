// Refusals on the control port: every one has the documented shape (a JSON body with `error` and
// `message`, and `x-intercept-protocol: 1`), and a request with several faults is refused for the
// first one in the documented order: path, method and upgrade, protocol version, claim fields,
// port, held.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarProcess } from '../support/sidecar-process';
import { startNamedServer, type NamedServer } from '../support/servers';
import { openTunnel } from '../support/tunnels';
import { handshake, parseResponse, raw, requestHead, type RawResponse } from '../support/raw-http';
import type { TunnelClient } from '../../src/core/tunnel/tunnel-client';
import { HandshakeHeader, PROTOCOL_VERSION, STATUS_PATH, TUNNEL_PATH } from '../../src/protocol/constants';

const claim = {
  [HandshakeHeader.protocol]: String(PROTOCOL_VERSION),
  [HandshakeHeader.claimHeader]: 'x-intercept-id',
  [HandshakeHeader.claimValue]: 'fay-1',
  [HandshakeHeader.developer]: 'fay',
  [HandshakeHeader.lease]: 'lease-fay-00000000001',
};

describe('refusals on the control port', () => {
  let app: NamedServer;
  let local: NamedServer;
  let sidecar: SidecarProcess;
  let holder: TunnelClient;

  before(async () => {
    app = await startNamedServer('app');
    local = await startNamedServer('gus-laptop');
    sidecar = await SidecarProcess.start({ appPorts: [app.port] });
    holder = await openTunnel(sidecar, 'gus-1', local.port); // holds x-intercept-id: gus-1
  });

  after(async () => {
    await holder.close();
    await sidecar.stop();
    await Promise.all([app.close(), local.close()]);
  });

  /** Sends `head`, checks the refusal's shape and returns it with its parsed body. */
  async function refusal(head: string): Promise<RawResponse & { json: Record<string, unknown> }> {
    const answer = parseResponse(await raw(sidecar.controlPort, head));
    assert.equal(answer.headers['content-type'], 'application/json', head);
    assert.equal(answer.headers[HandshakeHeader.protocol], String(PROTOCOL_VERSION), head);
    const json = JSON.parse(answer.body) as Record<string, unknown>;
    assert.equal(typeof json.error, 'string', head);
    assert.ok(typeof json.message === 'string' && json.message.length > 0, head);
    return { ...answer, json };
  }

  it('answers unknown paths, wrong methods and plain requests to the tunnel endpoint in the documented shape', async () => {
    const cases: Array<[head: string, status: number, error: string]> = [
      [requestHead('GET', '/nope'), 404, 'not-found'],
      [requestHead('GET', '/nope', {}, true), 404, 'not-found'],
      [requestHead('POST', STATUS_PATH, { 'content-length': '0' }), 405, 'method-not-allowed'],
      [requestHead('GET', STATUS_PATH, {}, true), 400, 'bad-request'],
      [requestHead('GET', TUNNEL_PATH), 400, 'not-websocket'],
      [requestHead('GET', TUNNEL_PATH, { connection: null }, true), 400, 'not-websocket'],
      [requestHead('PUT', TUNNEL_PATH, {}, true), 405, 'method-not-allowed'],
      [handshake({ ...claim, upgrade: 'h2c' }), 400, 'not-websocket'],
      [handshake({ ...claim, 'sec-websocket-key': 'short' }), 400, 'not-websocket'],
      [handshake({ ...claim, 'sec-websocket-key': null }), 400, 'not-websocket'],
      [handshake({ ...claim, 'sec-websocket-version': '12' }), 400, 'not-websocket'],
      [handshake({ ...claim, 'sec-websocket-protocol': 'a b' }), 400, 'not-websocket'],
    ];
    for (const [head, status, error] of cases) {
      const r = await refusal(head);
      assert.deepEqual([r.status, r.json.error], [status, error], head);
    }
    assert.equal((await refusal(requestHead('DELETE', STATUS_PATH))).headers.allow, 'GET, HEAD');
    assert.equal((await refusal(handshake({ ...claim, 'sec-websocket-version': '12' }))).headers['sec-websocket-version'], '13');
  });

  it('answers requests Node cannot parse in the documented shape', async () => {
    const bad = await refusal('GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n');
    assert.deepEqual([bad.status, bad.json.error], [400, 'bad-request']);
    const big = await refusal(`GET ${STATUS_PATH} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    assert.deepEqual([big.status, big.json.error], [431, 'head-too-large']);
  });

  it('refuses for the first fault in the order: path, method and upgrade, protocol version, claim fields, port, held', async () => {
    const badVersion = { [HandshakeHeader.protocol]: '99' };
    const badClaim = { [HandshakeHeader.claimValue]: 'has space' };
    const badPort = { [HandshakeHeader.port]: '1' };
    const held = { [HandshakeHeader.claimValue]: 'gus-1' };
    const cases: Array<[what: string, head: string, status: number, error: string]> = [
      ['path before method and upgrade', requestHead('POST', '/nope', { ...claim, ...badVersion, 'content-length': '0' }), 404, 'not-found'],
      ['path before claim', requestHead('GET', `${TUNNEL_PATH}/x`, { ...claim, ...badClaim }, true), 404, 'not-found'],
      ['method before protocol version', requestHead('POST', TUNNEL_PATH, { ...claim, ...badVersion }, true), 405, 'method-not-allowed'],
      ['upgrade before protocol version', requestHead('GET', TUNNEL_PATH, { ...claim, ...badVersion }), 400, 'not-websocket'],
      ['websocket fields before protocol version', handshake({ ...claim, ...badVersion, 'sec-websocket-key': null }), 400, 'not-websocket'],
      ['protocol version before claim fields', handshake({ ...claim, ...badVersion, ...badClaim, ...badPort }), 426, 'protocol-version'],
      ['claim fields before port', handshake({ ...claim, ...badClaim, ...badPort }), 400, 'bad-claim'],
      ['port before held', handshake({ ...claim, ...held, ...badPort }), 400, 'bad-port'],
      ['held', handshake({ ...claim, ...held }), 409, 'claim-held'],
    ];
    for (const [what, head, status, error] of cases) {
      const r = await refusal(head);
      assert.deepEqual([r.status, r.json.error], [status, error], what);
    }
  });
});
