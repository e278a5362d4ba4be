import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expandReferences } from '../../src/core/env/expansion';
import { isEnvVarName } from '../../src/core/env/env-names';
import { ceilDivide, milliValue, parseQuantity, wholeValue } from '../../src/core/env/quantity';

describe('$(VAR) expansion as the kubelet does it', () => {
  const vars: Record<string, string> = { VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' };
  const expand = (s: string) => expandReferences(s, (n) => vars[n]).value;

  // The cases of Kubernetes' own expansion tests (third_party/forked/golang/expansion).
  const cases: [string, string][] = [
    ['$(VAR_A)', 'A'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)_$(VAR_B)_$(VAR_C)', 'A_B_C'],
    ['$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
    ['$$(VAR_A)_$$(VAR_B)', '$(VAR_A)_$(VAR_B)'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['foo\\$(VAR_C)bar', 'foo\\Cbar'],
    ['$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['foo$(VAR_EMPTY)bar', 'foobar'],
    ['foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
    ['$?_boo_$!', '$?_boo_$!'],
    ['$VAR_A', '$VAR_A'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$$$$$$(VAR_A)', '$$$(VAR_A)'],
    ['$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
    ['$$$$$$$(VAR_A)', '$$$A'],
    ['$VAR_A)', '$VAR_A)'],
    ['${VAR_A}', '${VAR_A}'],
    ['$(VAR_B)_______$(A', 'B_______$(A'],
    ['$(VAR_C)_______$(', 'C_______$('],
    ['$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['--$($($($($--', '--$($($($($--'],
    ['$($($($($--foo$(', '$($($($($--foo$('],
    ['$(foo$$var)', '$(foo$$var)'],
    ['\n', '\n'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(expand(input), expected));
  }

  it('reports every referenced name, defined or not, and no escaped one', () => {
    assert.deepEqual(expandReferences('$(A)-$$(B)-$(C)-$(A)', () => undefined).references, ['A', 'C', 'A']);
  });
});

describe('envFrom key names the kubelet accepts', () => {
  it('classic rule: letters, digits, _ - . and not starting with a digit or ..', () => {
    for (const ok of ['LOG_LEVEL', 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1', '_x', '.x', '-x']) assert.equal(isEnvVarName(ok), true, ok);
    for (const bad of ['1badkey', '2alsobad', 'nginx conf', 'a=b', '.', '..', '..x', '', 'é']) assert.equal(isEnvVarName(bad), false, bad);
  });
  it('relaxed rule: any printable ASCII but =', () => {
    assert.equal(isEnvVarName('1badkey', 'relaxed'), true);
    assert.equal(isEnvVarName('nginx conf', 'relaxed'), true);
    assert.equal(isEnvVarName('a=b', 'relaxed'), false);
    assert.equal(isEnvVarName('tab\there', 'relaxed'), false);
  });
});

describe('quantities', () => {
  const q = (s: string) => parseQuantity(s)!;
  it('reads every suffix form exactly', () => {
    assert.equal(wholeValue(q('128Mi')), 134217728n);
    assert.equal(wholeValue(q('1.5Gi')), 1610612736n);
    assert.equal(wholeValue(q('2G')), 2000000000n);
    assert.equal(wholeValue(q('1e3')), 1000n);
    assert.equal(wholeValue(q('1E')), 10n ** 18n);
    assert.equal(milliValue(q('250m')), 250n);
    assert.equal(milliValue(q('0.5')), 500n);
    assert.equal(milliValue(q('.1')), 100n);
    assert.equal(milliValue(q('100n')), 1n, 'rounded up');
    assert.equal(wholeValue(q('1500m')), 2n, 'rounded up');
    assert.equal(parseQuantity('12 Mi'), undefined);
    assert.equal(parseQuantity('Mi'), undefined);
    assert.equal(parseQuantity('1MB'), undefined);
  });
  it('divides rounding up', () => {
    assert.equal(ceilDivide(1500n, 1000n), 2n);
    assert.equal(ceilDivide(2000n, 1000n), 2n);
  });
});
