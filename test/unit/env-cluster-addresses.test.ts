import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteClusterAddresses, serviceAddressesIn } from '../../src/core/env/cluster-addresses';
import type { EnvVariable } from '../../src/core/env/types';

// The forwards that will exist: Services of namespace shop (and one of namespace data) → local ports.
const forwards = new Map<string, number>([
  ['orders:8080', 41001],
  ['payments:80', 41002],
  ['postgres:5432', 41003],
  ['cache:6379', 41004],
  ['rabbitmq.data:5672', 41005],
  ['mongo-0:27017', 41006],
  ['mongo-1:27017', 41007],
  ['grpc-inventory:50051', 41008],
  ['kafka:9092', 41009],
]);
const v = (name: string, value: string, secret = false): EnvVariable => ({ name, value, source: 'value in the container spec', secret });
const rewrite = (value: string) => rewriteClusterAddresses([v('X', value)], 'shop', forwards).variables[0]!.value;

describe('pointing cluster addresses at the local forwards', () => {
  const cases: [string, string][] = [
    ['http://orders:8080', 'http://127.0.0.1:41001'],
    ['http://orders:8080/api/v1?x=1#f', 'http://127.0.0.1:41001/api/v1?x=1#f'],
    ['http://orders.shop:8080', 'http://127.0.0.1:41001'],
    ['http://orders.shop.svc:8080', 'http://127.0.0.1:41001'],
    ['http://orders.shop.svc.cluster.local:8080/', 'http://127.0.0.1:41001/'],
    ['orders.shop.svc.cluster.local:8080', '127.0.0.1:41001'],
    ['http://payments', 'http://127.0.0.1:41002'],
    ['postgres://app:p%40ss@postgres:5432/orders?sslmode=disable', 'postgres://app:p%40ss@127.0.0.1:41003/orders?sslmode=disable'],
    ['jdbc:postgresql://postgres.shop.svc.cluster.local:5432/orders', 'jdbc:postgresql://127.0.0.1:41003/orders'],
    ['redis://cache:6379', 'redis://127.0.0.1:41004'],
    ['redis://:secret@cache/0', 'redis://:secret@127.0.0.1:41004/0'],
    ['amqp://guest:guest@rabbitmq.data.svc.cluster.local:5672/%2f', 'amqp://guest:guest@127.0.0.1:41005/%2f'],
    ['mongodb://u:p@mongo-0:27017,mongo-1:27017/app?replicaSet=rs0', 'mongodb://u:p@127.0.0.1:41006,127.0.0.1:41007/app?replicaSet=rs0'],
    ['dns:///grpc-inventory:50051', 'dns:///127.0.0.1:41008'],
    ['kafka:9092,kafka.shop.svc:9092', '127.0.0.1:41009,127.0.0.1:41009'],
    ['cache:6379', '127.0.0.1:41004'],
    ['http://gateway:8080/proxy?target=orders:8080', 'http://gateway:8080/proxy?target=127.0.0.1:41001'],
  ];
  for (const [before, after] of cases) {
    it(`${before} → ${after}`, () => assert.equal(rewrite(before), after));
  }

  const untouched = [
    'http://orders:9090', // a port with no forward
    'http://orders.other:8080', // the same name in another namespace
    'https://api.stripe.com:443',
    'http://orders.example.com:8080', // not a Service name form
    'mongodb+srv://u:p@mongo-0/app', // SRV lookup: no port to forward
    'orders', // a host without a port outside a URL
    'orders:80801',
    'myorders:8080',
    'db_orders:8080', // part of a longer word
    'orders-v2:8080',
    'user-orders:8080@x',
    '10.96.0.10:8080',
    'grpc://grpc-inventory', // no default port for the scheme
    'info',
  ];
  for (const value of untouched) {
    it(`leaves ${value} alone`, () => assert.equal(rewrite(value), value));
  }

  it('lists each change with what was replaced, and keeps other variables and their order', () => {
    const r = rewriteClusterAddresses(
      [v('LOG_LEVEL', 'info'), v('ORDERS_URL', 'http://orders:8080'), v('DATABASE_URL', 'postgres://app:pw@postgres:5432/db', true), v('EXTERNAL', 'https://example.com')],
      'shop',
      forwards,
    );
    assert.deepEqual(r.variables.map((x) => [x.name, x.value]), [
      ['LOG_LEVEL', 'info'],
      ['ORDERS_URL', 'http://127.0.0.1:41001'],
      ['DATABASE_URL', 'postgres://app:pw@127.0.0.1:41003/db'],
      ['EXTERNAL', 'https://example.com'],
    ]);
    assert.deepEqual(r.changes, [
      { variable: 'ORDERS_URL', before: 'http://orders:8080', after: 'http://127.0.0.1:41001', replaced: [{ from: 'orders:8080', to: '127.0.0.1:41001' }], secret: false },
      {
        variable: 'DATABASE_URL',
        before: 'postgres://app:pw@postgres:5432/db',
        after: 'postgres://app:pw@127.0.0.1:41003/db',
        replaced: [{ from: 'postgres:5432', to: '127.0.0.1:41003' }],
        secret: true,
      },
    ]);
    assert.equal(r.variables[2]!.secret, true, 'a rewritten secret stays secret');
  });

  it('names the default port it used for a URL without one', () => {
    const r = rewriteClusterAddresses([v('PAYMENTS', 'http://payments/charge')], 'shop', forwards);
    assert.deepEqual(r.changes[0]!.replaced, [{ from: 'payments:80', to: '127.0.0.1:41002' }]);
  });
});

describe('the Service addresses an environment names', () => {
  // Services that exist: name.namespace → ports.
  const services = new Map<string, number[]>([
    ['orders.shop', [8080]],
    ['postgres.shop', [5432]],
    ['payments.shop', [80]],
    ['rabbitmq.data', [5672]],
  ]);
  const isService = (service: string, port: number) => services.get(service)?.includes(port) ?? false;

  it('lists each Service and port once, in order, whatever form names it; unknown hosts and ports are not listed', () => {
    const found = serviceAddressesIn(
      [
        v('ORDERS_URL', 'http://orders:8080/api'),
        v('ORDERS_AGAIN', 'orders.shop.svc.cluster.local:8080'),
        v('DATABASE_URL', 'postgres://app:pw@postgres.shop.svc:5432/db', true),
        v('PAYMENTS', 'http://payments/charge'),
        v('QUEUE', 'amqp://rabbitmq.data:5672'),
        v('WRONG_PORT', 'http://orders:9090'),
        v('ELSEWHERE', 'http://orders.other:8080'),
        v('EXTERNAL', 'https://api.example.com'),
      ],
      'shop',
      isService,
    );
    assert.deepEqual(found, [
      { service: 'orders.shop', port: 8080 },
      { service: 'postgres.shop', port: 5432 },
      { service: 'payments.shop', port: 80 },
      { service: 'rabbitmq.data', port: 5672 },
    ]);
  });

  it('finds nothing in an environment without cluster addresses', () => {
    assert.deepEqual(serviceAddressesIn([v('LOG_LEVEL', 'debug'), v('URL', 'https://example.com:443')], 'shop', isService), []);
  });
});
