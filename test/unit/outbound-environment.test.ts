import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { outboundEnvironment, PROXY_SOURCE, type OutboundEnvironmentDeps } from '../../src/core/outbound/outbound-environment';
import type { EnvVariable } from '../../src/core/env/types';

const v = (name: string, value: string, secret = false): EnvVariable => ({ name, value, source: 'value in the container spec', secret });

/** Services as the cluster has them, and a record of the forwards asked for. */
function deps(namespaces: Record<string, Record<string, number[]> | 'forbidden'>): OutboundEnvironmentDeps & { asked: string[]; read: string[] } {
  const asked: string[] = [];
  const read: string[] = [];
  let next = 41000;
  const ports = new Map<string, number>();
  return {
    asked,
    read,
    proxyPort: 40999,
    servicePorts(ns) {
      read.push(ns);
      const services = namespaces[ns];
      return Promise.resolve(services === undefined || services === 'forbidden' ? undefined : new Map(Object.entries(services)));
    },
    forward(host, port) {
      const key = `${host}:${port}`;
      asked.push(key);
      if (!ports.has(key)) ports.set(key, ++next);
      return Promise.resolve(ports.get(key)!);
    },
  };
}

describe('the environment of a program that calls out through the pod', () => {
  it('points Service addresses at one forward each, names the proxy, and leaves other addresses alone', async () => {
    const d = deps({ shop: { billing: [8080], postgres: [5432] }, data: { rabbitmq: [5672] } });
    const env = await outboundEnvironment(
      [
        v('BILLING_URL', 'http://billing:8080/charge'),
        v('BILLING_AGAIN', 'billing.shop.svc.cluster.local:8080'),
        v('DATABASE_URL', 'postgres://app:pw@postgres:5432/orders', true),
        v('QUEUE', 'amqp://rabbitmq.data:5672'),
        v('NOT_A_PORT_OF_IT', 'http://billing:9999'),
        v('EXTERNAL', 'https://api.example.com/v1'),
      ],
      'shop',
      d,
    );
    assert.deepEqual(d.asked, ['billing.shop.svc:8080', 'postgres.shop.svc:5432', 'rabbitmq.data.svc:5672']);
    assert.deepEqual(env.forwards, [
      { destination: 'billing.shop.svc:8080', localPort: 41001 },
      { destination: 'postgres.shop.svc:5432', localPort: 41002 },
      { destination: 'rabbitmq.data.svc:5672', localPort: 41003 },
    ]);
    const value = (name: string) => env.variables.find((x) => x.name === name)?.value;
    assert.equal(value('BILLING_URL'), 'http://127.0.0.1:41001/charge');
    assert.equal(value('BILLING_AGAIN'), '127.0.0.1:41001');
    assert.equal(value('DATABASE_URL'), 'postgres://app:pw@127.0.0.1:41002/orders');
    assert.equal(value('QUEUE'), 'amqp://127.0.0.1:41003');
    assert.equal(value('NOT_A_PORT_OF_IT'), 'http://billing:9999');
    assert.equal(value('EXTERNAL'), 'https://api.example.com/v1');
    assert.deepEqual(env.changes.map((c) => c.variable), ['BILLING_URL', 'BILLING_AGAIN', 'DATABASE_URL', 'QUEUE']);
    assert.equal(env.changes.find((c) => c.variable === 'DATABASE_URL')!.secret, true);
    assert.equal(value('HTTP_PROXY'), 'http://127.0.0.1:40999');
    assert.equal(value('https_proxy'), 'http://127.0.0.1:40999');
    assert.equal(value('NO_PROXY'), 'localhost,127.0.0.1,::1');
    assert.equal(env.variables.find((x) => x.name === 'HTTP_PROXY')!.source, PROXY_SOURCE);
    assert.equal(env.podProxyKept, false);
  });

  it('reads each namespace once, and a namespace it may not read only costs its forwards', async () => {
    const d = deps({ shop: { billing: [80] }, secret: 'forbidden' });
    const env = await outboundEnvironment([v('A', 'http://billing'), v('B', 'http://billing.shop'), v('C', 'http://vault.secret:8200')], 'shop', d);
    assert.deepEqual(d.read.sort(), ['secret', 'shop']);
    assert.deepEqual(d.asked, ['billing.shop.svc:80']);
    assert.equal(env.variables.find((x) => x.name === 'C')!.value, 'http://vault.secret:8200');
  });

  it('keeps a proxy the pod names itself, pointed at its forward when it is a Service', async () => {
    const d = deps({ shop: { egress: [3128] } });
    const env = await outboundEnvironment([v('HTTPS_PROXY', 'http://egress:3128'), v('NO_PROXY', '.svc')], 'shop', d);
    assert.equal(env.podProxyKept, true);
    assert.deepEqual(
      env.variables.map((x) => [x.name, x.value]),
      [
        ['HTTPS_PROXY', 'http://127.0.0.1:41001'],
        ['NO_PROXY', '.svc'],
      ],
    );
  });

  it('a NO_PROXY of the pod alone keeps nothing of it: the proxy is ours, with loopback excluded', async () => {
    const env = await outboundEnvironment([v('no_proxy', '.internal')], 'shop', deps({}));
    assert.equal(env.podProxyKept, false);
    assert.equal(env.variables.filter((x) => /^no_proxy$/i.test(x.name)).every((x) => x.value === 'localhost,127.0.0.1,::1'), true);
  });
});
