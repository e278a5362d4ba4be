import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { logPath } from '../../src/protocol/log-path';

describe('logged request path', () => {
  const cases: Array<[target: string, logged: string]> = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b?token=SECRET', '/a/b'],
    ['/a/b#SECRET', '/a/b'],
    ['/a;jsessionid=SECRET/b', '/a'],
    ['/a/b;jsessionid=SECRET?x=1', '/a/b'],
    ['/a/b%3Ftoken=SECRET', '/a/b'],
    ['/a/b%3ftoken=SECRET', '/a/b'],
    ['/a/b%3Bjsessionid=SECRET', '/a/b'],
    ['/a/b%23SECRET', '/a/b'],
    ['/a%20b/%41', '/a%20b/%41'],
    ['/users/@me', '/users/@me'],
    ['http://user:SECRET@host.example/p', '/p'],
    ['http://user:SECRET@host.example/p;SECRET?SECRET#SECRET', '/p'],
    ['HTTPS://user:SECRET@host.example:8443/p/q', '/p/q'],
    ['http://user:SECRET@host.example', '/'],
    ['http://user:SECRET@host.example?q=SECRET', '/'],
    ['http://SECRET@host.example/a@b', '/a@b'],
    ['//user:SECRET@host.example/p', '/p'],
    ['host.example:443', 'host.example:443'],
    ['user:SECRET@host.example:443', 'host.example:443'],
    ['*', '*'],
    ['?SECRET', ''],
  ];
  for (const [target, logged] of cases) {
    it(`${JSON.stringify(target)} → ${JSON.stringify(logged)}`, () => {
      assert.equal(logPath(target), logged);
    });
  }
});
