// detectPorts over launch configurations gathered from public repositories, each with the files it
// reads (launchSettings.json, application-<profile>.yml ...): the first candidate, or none.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { choosePort, detectPorts, type LaunchConfiguration, type PortCandidate } from '../../src/core/ports/detect';
import { parseJsonc } from '../../src/core/ports/jsonc';

const root = fileURLToPath(new URL('../fixtures/launch-configs/', import.meta.url));

interface Case {
  source: string;
  configuration: string;
  expect: Pick<PortCandidate, 'port' | 'confidence' | 'source'> | null;
}

function workspace(folder: string) {
  return {
    folder,
    readFile: (p: string) => readFile(path.resolve(folder, p), 'utf8').catch(() => undefined),
  };
}

const cases = readdirSync(root).flatMap((ecosystem) =>
  readdirSync(path.join(root, ecosystem)).map((slug) => ({ ecosystem, slug, dir: path.join(root, ecosystem, slug) })),
);

describe('ports of real launch configurations', () => {
  for (const { ecosystem, slug, dir } of cases) {
    const c = JSON.parse(readFileSync(path.join(dir, 'case.json'), 'utf8')) as Case;
    it(`${ecosystem}: ${slug} "${c.configuration}"`, async () => {
      const launch = parseJsonc(readFileSync(path.join(dir, '.vscode/launch.json'), 'utf8')) as { configurations: LaunchConfiguration[] };
      const config = launch.configurations.find((x) => x.name === c.configuration);
      assert.ok(config, `no configuration named ${c.configuration}`);
      const found = await detectPorts(config, workspace(dir));
      if (c.expect === null) {
        assert.deepEqual(found, []);
        assert.deepEqual(choosePort(found), { none: true });
      } else {
        assert.deepEqual(found[0], c.expect);
        // every case here names one port without doubt: the editor does not ask
        assert.equal((choosePort(found) as { port?: number }).port, c.expect.port);
      }
    });
  }

  it('has at least five cases per ecosystem', () => {
    for (const ecosystem of ['node', 'python', 'go', 'java', 'dotnet', 'ruby', 'php']) {
      assert.ok(cases.filter((c) => c.ecosystem === ecosystem).length >= 5, ecosystem);
    }
  });
});
